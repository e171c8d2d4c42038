//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestClaimedExceptions: under restricted + k3s-system, pods in
// kube-system named like K3s's components try to use what the preset's
// exceptions grant (root, CAP_DAC_OVERRIDE with K3s's storage directory,
// CAP_NET_ADMIN) with the genuine image and their own command, or with
// the genuine command under another registry's image. Each is refused or
// runs without the grant; the genuine command lines still run with it.
func TestClaimedExceptions(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	presets := policyRef{File: filepath.Join(repoRoot, "e2e", "policies", "presets", "policy.yaml")}
	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnvWith(t, v, "external", presets)
		claimedExceptions(t, e, strings.ReplaceAll(v, ".", ""))
	})
}

const (
	storage    = "/var/lib/rancher/k3s/storage"
	victimDir  = storage + "/pvc-victim_default_data"
	canaryFile = victimDir + "/secret"
	canary     = "canary-of-another-volume"
)

var (
	helperImage   = map[string]any{"image": "docker.io/rancher/mirrored-library-busybox:e2e"}
	corednsImage  = map[string]any{"image": "docker.io/rancher/mirrored-coredns-coredns:e2e"}
	svclbImage    = map[string]any{"image": "docker.io/rancher/klipper-lb:e2e"}
	storageMount  = []any{map[string]any{"host_path": storage, "container_path": storage}}
	helperSetup   = []any{"/bin/sh", "/script/setup"}
	helperArgs    = []any{"-p", storage + "/pvc-e2e_default_data", "-s", "1073741824", "-m", "Filesystem"}
	corednsArgs   = []any{"-conf", "/etc/coredns/Corefile"}
	ownCommand    = []any{"sleep", "3600"}
	addNetAdmin   = map[string]any{"security_context": map[string]any{"capabilities": map[string]any{"add_capabilities": []any{"NET_ADMIN"}}}}
	readCanary    = []string{"cat", canaryFile}
	setLoopback   = []string{"ip", "link", "set", "lo", "mtu", "65536"}
	processUID    = []string{"id", "-u"}
	effectiveCaps = []string{"grep", "CapEff:", "/proc/1/status"}
)

func claimedExceptions(t *testing.T, e *env, tag string) {
	// Another volume's data, readable only by its owner (or by
	// CAP_DAC_OVERRIDE, which the helper's exception grants).
	plant := "mkdir -p " + victimDir + " && echo " + canary + " > " + canaryFile +
		" && chown -R 4242:4242 " + victimDir + " && chmod 600 " + canaryFile + " && chmod 700 " + victimDir
	if out, err := e.inNamespace("sh", "-c", plant).CombinedOutput(); err != nil {
		t.Fatalf("planting the canary: %v\n%s", err, out)
	}

	attacks := []struct {
		name, pod string
		ctr       map[string]any
		probe     []string
		// gained says whether the probe's output shows the grant used.
		gained func(out string, err error) bool
	}{
		{"helper look-alike: genuine image, own command, reads another volume", "helper-pod-create-pvc-evil",
			map[string]any{"image": helperImage, "command": ownCommand, "mounts": storageMount},
			readCanary, func(out string, err error) bool { return strings.Contains(out, canary) }},
		{"helper look-alike: genuine image, a shell as the command", "helper-pod-delete-pvc-evil",
			map[string]any{"image": helperImage, "command": []any{"/bin/sh", "-c", "sleep 3600"}, "mounts": storageMount},
			readCanary, func(out string, err error) bool { return strings.Contains(out, canary) }},
		{"coredns look-alike: genuine command under another registry, runs as root", "coredns-abc",
			map[string]any{"image": map[string]any{"image": "evil.example/x/rancher/mirrored-coredns-coredns:1"}, "command": []any{"/coredns"}, "args": corednsArgs},
			processUID, func(out string, err error) bool { return err == nil && out == "0" }},
		{"coredns look-alike: genuine image, own command, runs as root", "coredns-def",
			map[string]any{"image": corednsImage, "command": ownCommand},
			processUID, func(out string, err error) bool { return err == nil && out == "0" }},
		{"svclb look-alike: genuine image, own command, keeps CAP_NET_ADMIN", "svclb-evil-1a2b3c4d",
			map[string]any{"image": svclbImage, "command": ownCommand, "linux": addNetAdmin},
			setLoopback, func(out string, err error) bool { return err == nil }},
	}
	for _, a := range attacks {
		out, refusal, err := attempt(t, e, a.pod+"-"+tag, a.ctr, a.probe)
		switch {
		case refusal != "":
			t.Logf("%s: refused: %s", a.name, guardText(refusal))
		case a.gained(out, err):
			t.Errorf("%s: the look-alike used the exception: %v -> %q %v", a.name, a.probe, out, err)
		default:
			t.Logf("%s: ran without the grant: %v -> %q %v", a.name, a.probe, out, err)
		}
	}

	// The genuine command lines still get what they need.
	genuine := []struct {
		name, pod string
		ctr       map[string]any
		probe     []string
		want      string
	}{
		{"helper", "helper-pod-create-pvc-e2e",
			map[string]any{"image": helperImage, "command": helperSetup, "args": helperArgs, "mounts": storageMount},
			effectiveCaps, "0000000000000002"},
		{"coredns", "coredns-5d8f7c9b6d-e2e",
			map[string]any{"image": corednsImage, "command": []any{"/coredns"}, "args": corednsArgs,
				"linux": map[string]any{"security_context": map[string]any{"capabilities": map[string]any{"drop_capabilities": []any{"ALL"}, "add_capabilities": []any{"NET_BIND_SERVICE"}}}}},
			processUID, "0"},
		{"svclb", "svclb-traefik-1a2b3c4d",
			map[string]any{"image": svclbImage, "command": []any{"entry"}, "linux": addNetAdmin},
			effectiveCaps, "0000000000003000"},
	}
	for _, g := range genuine {
		out, refusal, err := attempt(t, e, g.pod+"-"+tag, g.ctr, g.probe)
		if refusal != "" || err != nil || !strings.Contains(out, g.want) {
			t.Errorf("genuine %s: refusal %q, %v -> %q %v; want %q", g.name, refusal, g.probe, out, err, g.want)
		}
	}
	if out, refusal, err := attempt(t, e, "svclb-traefik-5e6f7a8b-"+tag, map[string]any{"image": svclbImage, "command": []any{"entry"}, "linux": addNetAdmin}, setLoopback); refusal != "" || err != nil {
		t.Errorf("genuine svclb cannot use CAP_NET_ADMIN in its own network namespace: %q %q %v", refusal, out, err)
	}
}

// attempt creates and starts a container in a new kube-system pod (its
// own network namespace) and runs probe in it. It returns the probe's
// output and error, or the refusal text when the container never ran.
func attempt(t *testing.T, e *env, pod string, ctr map[string]any, probe []string) (out, refusal string, err error) {
	t.Helper()
	p := e.newPod("kube-system", pod, false)
	defer p.remove()
	if p.runErr != nil {
		t.Fatalf("pod %s: %v", pod, p.runErr)
	}
	id, cerr := p.create(ctr)
	if cerr != nil {
		return "", cerr.Error(), nil
	}
	if _, serr := e.crictl("start", id); serr != nil {
		return "", serr.Error(), nil
	}
	out, err = e.crictl(append([]string{"exec", id}, probe...)...)
	return out, "", err
}

// guardText is the guard's own words in a CRI error.
func guardText(err string) string {
	if i := strings.Index(err, "nri-guard: refused"); i >= 0 {
		err = err[i:]
	}
	if i := strings.IndexAny(err, "\"\n"); i >= 0 {
		err = err[:i]
	}
	return err
}
