//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The node's policy for the runtime handler test: crun is wrapped and
// guarded, "sandboxed" stands for a handler that isolates by other means
// (kata, gVisor; here it is plain crun, so what it is NOT given shows).
const handlersPolicy = `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
defaultMode: enforce
controls:
  runtimeHandlers:
    guarded: ["", runc, crun]
    isolated: [sandboxed]
`

// containerd's default capabilities, and what the node's policy leaves
// of them (the baseline set: CAP_NET_RAW, bit 13, dropped).
const (
	capEffDefault  = "00000000a80425fb"
	capEffBaseline = "00000000a80405fb"
)

// TestRuntimeHandlers gives containerd, besides runc, three runtimes
// that run Debian's crun: "crun" through nri-guard's wrapper (the
// wrapper learns from its name, nri-guard-runc-crun, that it stands for
// crun), "crun-plain" straight (what K3s registers for a crun it finds on
// the node), and "sandboxed", listed as isolated. A pod that picks
// crun-plain is refused before its container exists, naming the handler
// and the settings; with the control off the same pod runs with the
// capabilities the policy drops, a writable root and no_new_privs off.
// Under the wrapped crun the full-spec controls are applied; the
// isolated handler is let through and the decision log says what it was
// not given.
func TestRuntimeHandlers(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	crun := secondRuntime(t)
	sideBySide(t, versions, func(t *testing.T, v string) {
		testRuntimeHandlers(t, newHandlersEnv(t, v, crun), strings.ReplaceAll(v, ".", ""))
	})
}

// secondRuntime is the binary behind the extra runtimes: Debian's crun
// when it can run what containerd 2.x asks here, else a copy of the
// pinned runc named crun. Either way it is a runc-compatible runtime that
// is not nri-guard's wrapper, which is all the route needs. Debian 12's
// crun 1.8.1 refuses specs newer than 1.1 ("unknown version specified")
// and cgroup hybrid mode, which these machines run.
func secondRuntime(t *testing.T) string {
	if crun, err := exec.LookPath("crun"); err == nil {
		why := probeRuntime(t, crun)
		if why == "" {
			t.Logf("the extra runtimes run %s", crun)
			return crun
		}
		t.Logf("%s cannot run containers here (%s); a copy of runc named crun stands in for it", crun, why)
	}
	stand := filepath.Join(t.TempDir(), "crun")
	must(t, copyFile(runcBin, stand))
	must(t, os.Chmod(stand, 0o755))
	return stand
}

// probeRuntime runs a trivial container of spec version 1.2.1 (what
// containerd 2.x writes) with the runtime; "" when it ran.
func probeRuntime(t *testing.T, bin string) string {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "rootfs", "bin"), 0o755))
	must(t, copyFile("/bin/busybox", filepath.Join(dir, "rootfs", "bin", "busybox")))
	must(t, os.Chmod(filepath.Join(dir, "rootfs", "bin", "busybox"), 0o755))
	writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{
		"ociVersion": "1.2.1",
		"process":    map[string]any{"args": []string{"/bin/busybox", "true"}, "cwd": "/", "user": map[string]any{"uid": 0, "gid": 0}},
		"root":       map[string]any{"path": "rootfs", "readonly": true},
		"mounts":     []any{map[string]any{"destination": "/proc", "type": "proc", "source": "proc"}},
		"linux":      map[string]any{"namespaces": []any{map[string]any{"type": "pid"}, map[string]any{"type": "mount"}}},
	})
	id := "nrig-probe-" + filepath.Base(dir)
	out, err := exec.Command(bin, "--root", filepath.Join(dir, "state"), "run", "--bundle", dir, id).CombinedOutput()
	exec.Command(bin, "--root", filepath.Join(dir, "state"), "delete", "-f", id).Run()
	if err != nil {
		return strings.TrimSpace(string(out))
	}
	return ""
}

// newHandlersEnv is newEnvWith plus the extra runtimes, crun's wrapper
// and its entry in the wrapper's configuration.
func newHandlersEnv(t *testing.T, v, crun string) *env {
	e := newBareEnv(t, v, "external", policyRef{})
	e.policy = policyRef{File: e.path("handlers-policy.yaml"), Dir: e.path("handlers-policy.d")}
	e.writeFile("handlers-policy.yaml", handlersPolicy)
	must(t, os.MkdirAll(e.policy.Dir, 0o755))
	wrapper := e.path("bin", "nri-guard-runc-crun")
	must(t, os.MkdirAll(filepath.Dir(wrapper), 0o755))
	must(t, os.Symlink(wrapperBin, wrapper))
	e.runtimes = map[string]string{"crun": wrapper, "crun-plain": crun, "sandboxed": crun}
	e.writeConfig()
	cfg := readFile(e.path("runtime.yaml"))
	e.writeFile("runtime.yaml", cfg+"handlers:\n  crun: "+crun+"\n")
	e.startNamespace()
	e.startGuard()
	e.startContainerd()
	e.importImages()
	e.waitGuarded()
	return e
}

func testRuntimeHandlers(t *testing.T, e *env, tag string) {
	dump := e.startDump()
	logNRIHandlers(t, e, dump, tag)

	// (a) crun, not wrapped: refused at creation, and nothing runs.
	plain := e.newPodOn("e2e", "handler-plain-"+tag, "crun-plain")
	defer plain.remove()
	_, err := plain.create(map[string]any{})
	for _, want := range []string{"runtime-handlers: pod.runtimeHandler = crun-plain:", "by rule runtimeHandlers.guarded", "add crun-plain to runtimeHandlers.guarded", "runtimeHandlers.isolated"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("a pod under the unwrapped crun: %v, want a refusal containing %q", err, want)
		}
	}
	if ids, _ := e.crictl("ps", "-a", "-q", "--pod", plain.id); ids != "" {
		t.Fatalf("the refused pod has containers: %q", ids)
	}
	t.Logf("containerd %s: a pod under the unwrapped crun is refused: %s", e.version, refusalText(err))

	// Without the control (mode off), the same pod keeps what the node's
	// policy takes from every other container: what the refusal prevents.
	off := filepath.Join(e.policy.Dir, "50-handlers-off.yaml")
	e.writeFile(strings.TrimPrefix(off, e.root+"/"), "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\ncontrols:\n  runtimeHandlers: {mode: off}\n")
	var id string
	e.poll("the policy without runtime-handlers to load", 15*time.Second, func() bool {
		id, err = plain.create(map[string]any{})
		return err == nil
	})
	if _, err := e.crictl("start", id); err != nil {
		t.Fatalf("start under the unwrapped crun: %v", err)
	}
	unguarded := processView(t, e, id)
	if unguarded.capEff != capEffDefault || unguarded.noNewPrivs != "0" || !unguarded.rootWritable {
		t.Fatalf("without runtime-handlers, crun-plain's container: %+v, want CapEff %s, NoNewPrivs 0 and a writable root (the escape the control closes)", unguarded, capEffDefault)
	}
	t.Logf("containerd %s: with runtimeHandlers off, a container under the unwrapped crun runs with %+v", e.version, unguarded)
	e.crictl("rm", "-f", id)
	must(t, os.Remove(off))
	attempt := 0
	e.poll("runtime-handlers to be back", 15*time.Second, func() bool {
		attempt++
		id, err = plain.create(map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("c%d", attempt+1)}})
		if err == nil {
			e.crictl("rm", "-f", id) // created before the reload: try again
		}
		return err != nil && strings.Contains(err.Error(), "runtime-handlers")
	})

	// (b) crun through its wrapper: the full-spec controls applied.
	wrapped := e.newPodOn("e2e", "handler-crun-"+tag, "crun")
	defer wrapped.remove()
	id = startContainer(t, e, wrapped, nil)
	guarded := processView(t, e, id)
	if guarded.capEff != capEffBaseline || guarded.noNewPrivs != "1" || guarded.rootWritable {
		t.Fatalf("under the wrapped crun: %+v, want CapEff %s, NoNewPrivs 1 and a read-only root", guarded, capEffBaseline)
	}
	if rec := e.decision(wrapped.name, "c1", "runtime"); rec["runtimeHandler"] != "crun" || rec["action"] != "rewrite" {
		t.Fatalf("the wrapper's decision for the crun pod: %v", rec)
	}
	if rec := e.decision(wrapped.name, "", "runtime"); rec["runtimeHandler"] != "crun" {
		t.Fatalf("the wrapper's decision for the crun pod's sandbox: %v", rec)
	}
	t.Logf("containerd %s: under the wrapped crun: %+v", e.version, guarded)

	// (c) an isolated handler: let through, and the log says so.
	iso := e.newPodOn("e2e", "handler-isolated-"+tag, "sandboxed")
	defer iso.remove()
	startContainer(t, e, iso, nil)
	rec := e.decision(iso.name, "c1", "create")
	msg := fmt.Sprint(rec["message"])
	if rec["runtimeHandler"] != "sandboxed" || !strings.Contains(msg, "runtime handler sandboxed is trusted to isolate by other means (runtimeHandlers.isolated") || !strings.Contains(msg, "capabilities, privileged, read-only-root") {
		t.Fatalf("the isolated pod's decision: %v", rec)
	}
	t.Logf("containerd %s: isolated handler let through, logged: %s", e.version, msg)
}

// newPodOn runs a pod sandbox under a runtime handler (crictl runp
// --runtime), as kubelet does for a pod with that RuntimeClass.
func (e *env) newPodOn(ns, name, handler string) *pod {
	p := &pod{e: e, ns: ns, name: name, dir: e.path("pods", name)}
	must(e.t, os.MkdirAll(p.dir, 0o755))
	writeJSON(e.t, filepath.Join(p.dir, "pod.json"), map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": ns, "uid": name + "-uid", "attempt": 0},
		"log_directory": p.dir,
		"linux":         merge(namespaceOptions(map[string]any{"pid": 1}), map[string]any{"cgroup_parent": cgroupParent(e.token)}),
	})
	p.id, p.runErr = e.crictl("runp", "--runtime", handler, filepath.Join(p.dir, "pod.json"))
	return p
}

// procView is what a container's own process shows of its privileges.
type procView struct {
	capEff, noNewPrivs string
	rootWritable       bool
}

func processView(t *testing.T, e *env, id string) procView {
	t.Helper()
	// The container's own process (pid 1 in its pid namespace): an exec'd
	// one is built from the client's spec (issue #11, class 3).
	status, err := e.crictl("exec", id, "cat", "/proc/1/status")
	must(t, err)
	var v procView
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			switch f[0] {
			case "CapEff:":
				v.capEff = f[1]
			case "NoNewPrivs:":
				v.noNewPrivs = f[1]
			}
		}
	}
	_, err = e.crictl("exec", id, "sh", "-c", "echo x > /nri-guard-probe")
	v.rootWritable = err == nil
	return v
}

// refusalText is the part of a CRI error after NRI's prefix.
func refusalText(err error) string {
	s := err.Error()
	if i := strings.Index(s, "nri-guard: refused"); i >= 0 {
		s = s[i:]
	}
	return strings.TrimSpace(s)
}

// logNRIHandlers records what NRI shows as PodSandbox.runtime_handler for
// a pod of the default runtime and one of a named handler.
func logNRIHandlers(t *testing.T, e *env, dump, tag string) {
	def := e.newPod("e2e", "handler-default-"+tag, false)
	defer def.remove()
	named := e.newPodOn("e2e", "handler-named-"+tag, "crun")
	defer named.remove()
	for _, p := range []*pod{def, named} {
		id, err := p.create(map[string]any{})
		if err != nil {
			t.Fatalf("create in %s: %v", p.name, err)
		}
		handler, ok := dumpedHandler(dump, id)
		if !ok {
			t.Fatalf("nridump did not see %s", p.name)
		}
		t.Logf("containerd %s: NRI shows runtime_handler=%q for %s", e.version, handler, p.name)
		if want := map[*pod]string{def: "", named: "crun"}[p]; handler != want {
			t.Errorf("%s: NRI runtime_handler %q, want %q", p.name, handler, want)
		}
	}
}

func dumpedHandler(file, id string) (string, bool) {
	for _, line := range strings.Split(readFile(file), "\n") {
		var rec struct {
			Event string `json:"event"`
			Pod   struct {
				RuntimeHandler string `json:"runtime_handler"`
			} `json:"pod"`
			Container struct {
				ID string `json:"id"`
			} `json:"container"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Event == "create" && rec.Container.ID == id {
			return rec.Pod.RuntimeHandler, true
		}
	}
	return "", false
}

// expectCrunWrapped: on a node where K3s found crun, the installer gave
// it a wrapper of its own and guarded it; a pod under crun is judged by
// that wrapper (which then ran crun) with the full-spec controls. The
// installed policy is in audit mode: the log says what enforce would do.
func (e *env) expectCrunWrapped(v string) {
	e.t.Helper()
	p := e.newPodOn("e2e", "installed-crun-"+strings.ReplaceAll(v, ".", ""), "crun")
	defer p.remove()
	startContainer(e.t.(*testing.T), e, p, nil)
	rec := e.decision(p.name, "c1", "runtime")
	controls := fmt.Sprint(rec["findings"])
	if rec["runtimeHandler"] != "crun" || !strings.Contains(controls, "read-only-root") || strings.Contains(controls, "runtime-handlers") {
		e.t.Fatalf("the installed node's wrapper did not judge the crun pod as guarded: %v", rec)
	}
}
