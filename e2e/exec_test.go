//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// capSysAdmin is CAP_SYS_ADMIN's bit in /proc/<pid>/status's CapEff.
const capSysAdmin = uint64(1) << 21

// TestExecSetuidCannotRegainRoot attacks through exec. The container
// runs as uid 1000 without allowPrivilegeEscalation: false (the client
// leaves no_new_privs off, the guard's noNewPrivileges control turns it
// on at create). containerd builds an exec's process from the spec the
// client sent, so without the wrapper's exec guard `crictl exec` runs
// the image's setuid-root probe as euid 0 and reads a root-only canary.
// Then the exec routes around CRI, straight through the wrapper as
// containerd's shim would call it: `runc exec --cap` and a process file
// asking for CAP_SYS_ADMIN, which the container does not hold.
func TestExecSetuidCannotRegainRoot(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		vol := e.path("exec-vol")
		must(t, os.MkdirAll(vol, 0o755))
		canary := filepath.Join(vol, "canary")
		must(t, os.WriteFile(canary, []byte("node secret\n"), 0o600)) // root-owned: the test runs as root

		p := e.newPod("default", "exec-suid-"+tag, false)
		defer p.remove()
		id := startContainer(t, e, p, map[string]any{
			"mounts": []any{map[string]any{"host_path": vol, "container_path": "/data", "readonly": true}},
			"linux":  map[string]any{"security_context": map[string]any{"run_as_user": map[string]any{"value": 1000}}},
		})
		initCaps := procCapEff(t, e, id, "1")

		out, err := e.crictl("exec", id, "suidprobe", "/data/canary")
		if err != nil {
			t.Fatalf("crictl exec suidprobe: %v %q", err, out)
		}
		t.Logf("containerd %s: crictl exec of the setuid-root probe: %s (container init CapEff %016x)", e.version, out, initCaps)
		probe := probeFields(out)
		if probe["euid"] == "0" || probe["read"] != "error" {
			t.Fatalf("the exec regained root through the setuid binary: %q", out)
		}
		if eff, err := strconv.ParseUint(probe["capeff"], 16, 64); err != nil || eff&^initCaps != 0 {
			t.Fatalf("the exec holds capabilities %q the container lacks (init CapEff %016x)", probe["capeff"], initCaps)
		}

		// As the shim runs runc: the same root, the wrapper's config.
		wrapper := func(args ...string) (string, error) {
			cmd := e.inNamespace(wrapperBin, append([]string{"--root", "/run/containerd/runc/k8s.io", "exec"}, args...)...)
			cmd.Env = append(os.Environ(), "NRI_GUARD_RUNTIME_CONFIG="+e.path("runtime.yaml"))
			out, err := cmd.CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}
		if out, err := wrapper(id, "id", "-u"); err != nil || out != "1000" {
			t.Fatalf("a plain runc exec through the wrapper: %v %q, want 1000", err, out)
		}
		initSets := procCaps(t, mustExec(t, e, id, "cat", "/proc/1/status"))
		out, err = wrapper("--cap", "CAP_SYS_ADMIN", id, "cat", "/proc/self/status")
		if err == nil {
			t.Fatalf("runc exec --cap CAP_SYS_ADMIN ran, with %v (container init %v)", procCaps(t, out), initSets)
		}
		if !strings.Contains(out, "exec-flags: --cap = CAP_SYS_ADMIN") {
			t.Fatalf("runc exec --cap CAP_SYS_ADMIN: %v %q, want the wrapper's refusal", err, out)
		}

		// Every set, ambient included: ambient capabilities survive the
		// exec of a non-root program.
		all := []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}
		proc := map[string]any{"cwd": "/", "args": []string{"cat", "/proc/self/status"}, "env": []string{"PATH=/bin"}, "user": containerUser(t, e, id),
			"capabilities": map[string]any{"bounding": all, "effective": all, "permitted": all, "inheritable": all, "ambient": all}}
		procFile := e.path("exec-process.json")
		writeJSON(t, procFile, proc)
		out, err = wrapper("--process", procFile, id)
		if err != nil {
			t.Fatalf("runc exec --process: %v %q", err, out)
		}
		got := procCaps(t, out)
		for set, bits := range got {
			if bits&capSysAdmin != 0 || bits&^initSets[set] != 0 {
				t.Fatalf("an exec process asking for CAP_SYS_ADMIN got %s %016x (container init %v)", set, bits, initSets)
			}
		}
		t.Logf("containerd %s: exec --cap CAP_SYS_ADMIN refused; a process file asking for it in every set runs with %v (container init %v)", e.version, got, initSets)
	})
}

func mustExec(t *testing.T, e *env, id string, cmd ...string) string {
	t.Helper()
	out, err := e.crictl(append([]string{"exec", id}, cmd...)...)
	if err != nil {
		t.Fatalf("exec %v: %v %q", cmd, err, out)
	}
	return out
}

// procCaps reads the capability sets from a /proc/<pid>/status text.
func procCaps(t *testing.T, status string) map[string]uint64 {
	t.Helper()
	sets := map[string]uint64{}
	for _, line := range strings.Split(status, "\n") {
		for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			if rest, ok := strings.CutPrefix(line, set+":"); ok {
				bits, err := strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
				must(t, err)
				sets[set] = bits
			}
		}
	}
	if len(sets) != 5 {
		t.Fatalf("no capability sets in %q", status)
	}
	return sets
}

// probeFields splits suidprobe's "k=v k=v" line.
func probeFields(out string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(out) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

// procCapEff reads CapEff of a process in the container.
func procCapEff(t *testing.T, e *env, id, pid string) uint64 {
	t.Helper()
	out, err := e.crictl("exec", id, "grep", "CapEff", "/proc/"+pid+"/status")
	must(t, err)
	eff, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
	must(t, err)
	return eff
}

// containerUser is the user the container runs as (process.user).
func containerUser(t *testing.T, e *env, id string) map[string]any {
	t.Helper()
	out, err := e.crictl("inspect", "-o", "json", id)
	must(t, err)
	var doc struct {
		Info struct {
			RuntimeSpec struct {
				Process struct {
					User map[string]any `json:"user"`
				} `json:"process"`
			} `json:"runtimeSpec"`
		} `json:"info"`
	}
	must(t, json.Unmarshal([]byte(out), &doc))
	return doc.Info.RuntimeSpec.Process.User
}
