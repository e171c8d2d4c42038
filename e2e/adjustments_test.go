//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHostileAdjustments: a later NRI plugin (the hostile tool, index 90)
// adjusts one field kind per pod against the node's policy. Each attack
// either is refused naming the plugin and the field, or, where the
// runtime has no validation phase (containerd 2.1), is stopped by the
// runtime wrapper or is stated as what still holds there.
func TestHostileAdjustments(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	pol := policyRef{File: filepath.Join(repoRoot, "e2e", "policies", "adjustments.yaml")}
	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnvWith(t, v, "external", pol)
		h := &hostileRun{e: e, t: t, rules: e.startHostile(), tag: strings.ReplaceAll(v, ".", ""), validation: hasValidator(v)}
		t.Run("env", h.untrustedField("env", map[string]any{"env": []any{map[string]any{"key": "E2E_HOSTILE", "value": "injected"}}},
			"plugins: env[E2E_HOSTILE] = injected: changed by another NRI plugin; nri-guard has no rule for env"))
		t.Run("args", h.untrustedField("args", map[string]any{"args": []any{"sh", "-c", "echo hijacked; sleep 3600"}},
			"plugins: args = sh -c echo hijacked; sleep 3600: changed by another NRI plugin"))
		t.Run("rlimits", h.untrustedField("rlimits", map[string]any{"rlimits": []any{map[string]any{"type": "RLIMIT_NPROC", "hard": 4096, "soft": 4096}}},
			"plugins: rlimits[RLIMIT_NPROC] = soft 4096, hard 4096: changed by another NRI plugin"))
		t.Run("trusted-env", h.trustedEnv)
		t.Run("net-device", h.netDevice)
		t.Run("cdi-hook", h.cdiHook)
		t.Run("cdi-relative-hook", h.cdiRelativeHook)
		t.Run("identity", h.identity)
	})
}

type hostileRun struct {
	e          *env
	t          *testing.T
	rules      string
	tag        string
	validation bool
}

// pod creates a pod whose container c1 gets adj from the hostile plugin.
func (h *hostileRun) pod(ns, name string, adj map[string]any) *pod {
	name += "-" + h.tag
	h.e.setHostileRules(h.rules, hostileRule{Container: "c1", Pod: name, Adjust: adj})
	p := h.e.newPod(ns, name, false)
	h.t.Cleanup(p.remove)
	return p
}

// wantRefused checks that err is nri-guard's refusal naming the plugin.
func wantRefused(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("not refused; want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("refusal lacks %q:\n%v", w, err)
		}
	}
}

// untrustedField: a field nri-guard has no rule for, set by a plugin the
// policy does not trust, is refused in validation. containerd 2.1 has no
// validation phase: the change goes through there (logged, not asserted).
func (h *hostileRun) untrustedField(kind string, adj map[string]any, want string) func(*testing.T) {
	return func(t *testing.T) {
		p := h.pod("e2e", "adj-"+kind, adj)
		id, err := p.create(map[string]any{})
		if !h.validation {
			t.Logf("containerd %s has no NRI validation: a later plugin's %s change is not judged there (create: %v)", h.e.version, kind, err)
			return
		}
		if err == nil {
			h.e.crictl("start", id)
			out, _ := h.e.crictl("exec", id, "sh", "-c", "echo $E2E_HOSTILE; cat /proc/1/cmdline; grep processes /proc/1/limits")
			t.Fatalf("the %s change was not refused; the container shows: %q", kind, out)
		}
		wantRefused(t, err, want, "(set by NRI plugin 90-hostile), by rule plugins.allow", "add {plugin: 90-hostile, fields: ["+kind+"]} to plugins.allow", "(judged after all NRI plugins ran)")
	}
}

// trustedEnv: with plugins.allow trusting the plugin for env (namespace
// trusted), its env change reaches the container.
func (h *hostileRun) trustedEnv(t *testing.T) {
	p := h.pod("trusted", "adj-trusted-env", map[string]any{"env": []any{map[string]any{"key": "E2E_HOSTILE", "value": "trusted"}}})
	id, err := p.create(map[string]any{})
	if err != nil {
		t.Fatalf("a trusted plugin's env was refused: %v", err)
	}
	if _, err := h.e.crictl("start", id); err != nil {
		t.Fatal(err)
	}
	if out, err := h.e.crictl("exec", id, "sh", "-c", "echo $E2E_HOSTILE"); err != nil || strings.TrimSpace(out) != "trusted" {
		t.Fatalf("the trusted env did not reach the container: %q %v", out, err)
	}
}

// netDevice: the plugin moves a node network interface (one end of a
// veth pair the test creates) into the pod. It must stay on the node.
func (h *hostileRun) netDevice(t *testing.T) {
	link := "ng" + h.e.token + "a"
	if out, err := h.e.inNamespace("ip", "link", "add", link, "type", "veth", "peer", "name", "ng"+h.e.token+"b").CombinedOutput(); err != nil {
		t.Fatalf("veth pair: %v\n%s", err, out)
	}
	t.Cleanup(func() { h.e.inNamespace("ip", "link", "del", link).Run() })
	p := h.pod("e2e", "adj-netdev", map[string]any{"linux": map[string]any{"net_devices": map[string]any{link: map[string]any{"name": "eth9"}}}})
	id, err := p.create(map[string]any{})
	if err == nil {
		_, err = h.e.crictl("start", id)
	}
	if out, lerr := h.e.inNamespace("ip", "link", "show", link).CombinedOutput(); lerr != nil {
		inside, _ := h.e.crictl("exec", id, "cat", "/proc/net/dev")
		t.Fatalf("the node's interface %s left the node (%v: %s); the container's interfaces:\n%s", link, lerr, out, inside)
	}
	if h.validation {
		wantRefused(t, err, "plugins: linux.net_devices["+link+"] = moved into the container as eth9: changed by another NRI plugin; nri-guard has no rule for netDevices",
			"(set by NRI plugin 90-hostile)")
	} else {
		t.Logf("containerd %s: NRI v0.8 has no network devices; the link stayed on the node (create/start: %v)", h.e.version, err)
	}
}

// cdiHook: the plugin adds a CDI device whose spec on the node carries an
// OCI hook. containerd expands it after NRI's validation, so the hook
// lands in config.json; were it to run, it would write a canary on the
// node as root. It is refused in validation (the plugin is not trusted
// for CDI devices); where validation lets it through (containerd 2.1,
// or a plugin trusted for cdiDevices) the runtime wrapper refuses the
// hook. The canary never appears.
func (h *hostileRun) cdiHook(t *testing.T) {
	canary := h.e.path("cdi-canary")
	spec := fmt.Sprintf(`{"cdiVersion": "0.6.0", "kind": "e2e.nri-guard.io/hook", "devices": [{"name": "canary",
  "containerEdits": {"env": ["E2E_CDI=1"], "hooks": [{"hookName": "createRuntime", "path": "/bin/sh", "args": ["sh", "-c", "echo ran-as-root > %s"]}]}}]}`, canary)
	h.writeCDISpec(t, "nri-guard-e2e.json", spec)
	adj := map[string]any{"CDI_devices": []any{map[string]any{"name": "e2e.nri-guard.io/hook=canary"}}}
	for _, c := range []struct{ ns, name string }{{"e2e", "adj-cdi"}, {"cditrust", "adj-cdi-trusted"}} {
		p := h.pod(c.ns, c.name, adj)
		id, err := p.create(map[string]any{})
		if err == nil {
			// runc create, where the wrapper judges, runs at start.
			_, err = h.e.crictl("start", id)
		}
		if _, serr := os.Stat(canary); serr == nil {
			t.Fatalf("%s: the CDI device's hook ran as root on the node: %s", c.name, readFile(canary))
		}
		switch {
		case h.validation && c.ns == "e2e":
			wantRefused(t, err, "plugins: CDI_devices[e2e.nri-guard.io/hook=canary] = e2e.nri-guard.io/hook=canary: changed by another NRI plugin; nri-guard has no rule for cdiDevices",
				"(set by NRI plugin 90-hostile)")
		default:
			// The device passed NRI: the wrapper sees its hook in the spec.
			wantRefused(t, err, "plugins: hooks.createRuntime = /bin/sh: OCI hook not listed by the policy would run as root on the node, by rule plugins.hookPaths")
		}
	}
}

// cdiRelativeHook: a plugin trusted for CDI devices, on a node that lists
// /bin/sh as a hook, adds a device whose createContainer hook is the
// relative path bin/sh. runc runs that hook with the container's root
// filesystem as its working directory, so the file is the image's, run as
// root before the container's capabilities are dropped. The wrapper
// refuses the unclean path; the canary never appears.
func (h *hostileRun) cdiRelativeHook(t *testing.T) {
	canary := h.e.path("cdi-relative-canary")
	spec := fmt.Sprintf(`{"cdiVersion": "0.6.0", "kind": "e2e.nri-guard.io/relhook", "devices": [{"name": "canary",
  "containerEdits": {"env": ["E2E_CDI=1"], "hooks": [{"hookName": "createContainer", "path": "bin/sh", "args": ["sh", "-c", "echo ran-from-the-image > %s"]}]}}]}`, canary)
	h.writeCDISpec(t, "nri-guard-e2e-relhook.json", spec)
	p := h.pod("hooktrust", "adj-relhook", map[string]any{"CDI_devices": []any{map[string]any{"name": "e2e.nri-guard.io/relhook=canary"}}})
	id, err := p.create(map[string]any{})
	if err == nil {
		_, err = h.e.crictl("start", id)
	}
	if _, serr := os.Stat(canary); serr == nil {
		t.Fatalf("the relative hook ran: %s", readFile(canary))
	}
	wantRefused(t, err, "plugins: hooks.createContainer = bin/sh: OCI hook path is not absolute and clean")
}

// writeCDISpec puts a CDI spec where containerd looks for them by default
// (cdi_spec_dirs: /etc/cdi, /var/run/cdi), in the environment's own
// overlay of /etc.
func (h *hostileRun) writeCDISpec(t *testing.T, name, spec string) {
	if out, err := h.e.inNamespace("sh", "-c", "mkdir -p /etc/cdi && cat > /etc/cdi/"+name+" <<'EOF'\n"+spec+"\nEOF").CombinedOutput(); err != nil {
		t.Fatalf("CDI spec: %v\n%s", err, out)
	}
}

// identity: the plugin relabels an app container the "sandbox" of a pod
// in netadmin, whose exception grants CAP_NET_ADMIN, and removes
// nri-guard's decision record, so the wrapper would take the exception
// for a sandbox's. The container asks for CAP_NET_ADMIN and, were it to
// get it, changes its network interface.
func (h *hostileRun) identity(t *testing.T) {
	p := h.pod("e2e", "adj-identity", map[string]any{"annotations": map[string]any{
		"io.kubernetes.cri.container-type":    "sandbox",
		"io.kubernetes.cri.sandbox-namespace": "netadmin",
		"io.kubernetes.cri.sandbox-name":      "lb",
		"-nri-guard.io/decision":              "",
	}})
	id, err := p.create(map[string]any{"linux": map[string]any{"security_context": map[string]any{
		"capabilities": map[string]any{"add_capabilities": []any{"NET_ADMIN"}},
	}}})
	if err == nil {
		_, err = h.e.crictl("start", id)
	}
	if err == nil {
		out, _ := h.e.crictl("exec", id, "sh", "-c", "ip link set lo mtu 1300 && echo NET_ADMIN-used")
		t.Fatalf("the relabelled app container runs; it says: %q", out)
	}
	if h.validation {
		wantRefused(t, err, "plugins: annotations[io.kubernetes.cri.container-type] = sandbox: no NRI plugin may change this field",
			"plugins: annotations[nri-guard.io/decision] = (removed): no NRI plugin may change this field", "(set by NRI plugin 90-hostile)")
		return
	}
	// containerd 2.1: no validation, and NRI v0.8 keeps nri-guard's record
	// (the removal does not reach the spec), so the wrapper judges the
	// container by the record's identity (e2e/adj-identity-*/c1, its own),
	// not the relabelled one: CAP_NET_ADMIN is outside its allowlist. Had
	// the record gone, the sandbox claim itself is refused: it joins its
	// sandbox's namespaces by /proc path, which no sandbox does.
	if !strings.Contains(err.Error(), "claims to be a pod sandbox, but it joins the") {
		wantRefused(t, err, "nri-guard: refused e2e/adj-identity-"+h.tag+"/c1: capabilities: process.capabilities = CAP_NET_ADMIN: added capability outside the allowlist")
	}
	// With nri-guard down, containerd 2.1 creates containers anyway (no
	// validator) and without a record: the relabelled container's claim
	// is all the wrapper has, and its shape gives it away.
	h.e.stopGuard(syscall.SIGTERM)
	p = h.pod("e2e", "adj-identity-norecord", map[string]any{"annotations": map[string]any{
		"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-namespace": "netadmin", "io.kubernetes.cri.sandbox-name": "lb",
	}})
	id, err = p.create(map[string]any{"linux": map[string]any{"security_context": map[string]any{
		"capabilities": map[string]any{"add_capabilities": []any{"NET_ADMIN"}},
	}}})
	if err == nil {
		_, err = h.e.crictl("start", id)
	}
	if err == nil {
		out, _ := h.e.crictl("exec", id, "sh", "-c", "ip link set lo mtu 1300 && echo NET_ADMIN-used")
		t.Fatalf("with nri-guard down, the relabelled app container runs; it says: %q", out)
	}
	wantRefused(t, err, "identity: annotations[io.kubernetes.cri.container-type] = sandbox: claims to be a pod sandbox, but it joins the")
}
