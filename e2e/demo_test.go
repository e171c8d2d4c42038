//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDemo is `make demo`: a narrated run on real containerd. It only runs
// when E2E_DEMO=1 (e2e/demo.sh sets it).
func TestDemo(t *testing.T) {
	if os.Getenv("E2E_DEMO") == "" {
		t.Skip("set E2E_DEMO=1 (make demo)")
	}
	v := versions[0]
	say("== Starting containerd %s with nri-guard as an external NRI plugin (policy: e2e/policies/policy.yaml)", v)
	e := newEnv(t, v, "external")
	for _, line := range strings.Split(readFile(e.path("nri-guard.log")), "\n") {
		if strings.Contains(line, "active controls") {
			var rec map[string]any
			json.Unmarshal([]byte(line), &rec)
			say("nri-guard says: %s", rec["msg"])
			break
		}
	}

	say("\n== 1. A benign pod whose container asks for no seccomp profile")
	good := e.newPod("default", "web", false)
	defer good.remove()
	id, err := good.create(map[string]any{})
	must(t, err)
	_, err = e.crictl("start", id)
	must(t, err)
	say("$ crictl create + start  ->  %s (running)", id[:12])
	out, err := e.crictl("inspect", "-o", "json", id)
	must(t, err)
	var doc struct {
		Info struct {
			RuntimeSpec struct {
				Linux struct {
					Seccomp struct {
						DefaultAction string `json:"defaultAction"`
						Syscalls      []any  `json:"syscalls"`
					} `json:"seccomp"`
				} `json:"linux"`
			} `json:"runtimeSpec"`
		} `json:"info"`
	}
	must(t, json.Unmarshal([]byte(out), &doc))
	sc := doc.Info.RuntimeSpec.Linux.Seccomp
	say("$ crictl inspect %s  ->  linux.seccomp.defaultAction=%s with %d rules (rewritten by nri-guard)", id[:12], sc.DefaultAction, len(sc.Syscalls))
	status, _ := e.crictl("exec", id, "grep", "Seccomp:", "/proc/1/status")
	say("$ crictl exec %s grep Seccomp: /proc/1/status  ->  %s   (2 = filtered)", id[:12], strings.TrimSpace(status))
	_, err = e.crictl("exec", id, "unshare", "-U", "true")
	say("$ crictl exec %s unshare -U true  ->  %v", id[:12], firstLine(err))
	capEff, _ := e.crictl("exec", id, "grep", "CapEff:", "/proc/1/status")
	say("$ crictl exec %s grep CapEff: /proc/1/status  ->  %s   (CAP_NET_RAW dropped by the runtime wrapper)", id[:12], strings.TrimSpace(capEff))
	_, err = e.crictl("exec", id, "touch", "/planted")
	say("$ crictl exec %s touch /planted  ->  %s", id[:12], readOnlyResult(err))
	say("decision log: %s", lastDecision(e, good.name))

	say("\n== 2. An escape-shaped pod: it mounts the host's /run, where K3s keeps its containerd socket")
	bad := e.newPod("kube-system", "evil", false)
	defer bad.remove()
	_, err = bad.create(map[string]any{"mounts": []any{map[string]any{"host_path": "/run", "container_path": "/host-run"}}})
	if err == nil {
		t.Fatal("the escape-shaped container was created")
	}
	say("$ crictl create ...  ->  refused:\n   %s", refusal(err))
	say("decision log: %s", lastDecision(e, bad.name))

	say("\n== Tearing down (pods, containerd, nri-guard, mounts, bridge)")
}

func readOnlyResult(err error) string {
	if err != nil && strings.Contains(err.Error(), "Read-only file system") {
		return "failed: Read-only file system (root made read-only by the runtime wrapper)"
	}
	return firstLine(err)
}

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func firstLine(err error) string {
	if err == nil {
		return "succeeded"
	}
	s := err.Error()
	if i := strings.Index(s, "Operation not permitted"); i >= 0 {
		return "failed: Operation not permitted (seccomp)"
	}
	return strings.SplitN(s, "\n", 2)[0]
}

// refusal cuts the guard's message out of crictl's error output.
func refusal(err error) string {
	s := err.Error()
	if i := strings.Index(s, "nri-guard: refused"); i >= 0 {
		s = s[i:]
	}
	if i := strings.IndexAny(s, "\"\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, `\`)
}

func lastDecision(e *env, pod string) string {
	recs := e.decisionsFor(pod)
	if len(recs) == 0 {
		return "(none)"
	}
	rec := recs[len(recs)-1]
	delete(rec, "policy")
	delete(rec, "message")
	data, _ := json.Marshal(rec)
	return string(data)
}
