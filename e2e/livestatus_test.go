//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestLiveStatus: after an allowed pod, one the plugin refuses and one
// only the runtime wrapper refuses, `nri-guard status --json` answers
// from the running plugin with its counts and refusal, and shows the
// wrapper's refusal and tallies beside them (exactly one refused
// creation); with the plugin killed it exits 2 with one clear line.
func TestLiveStatus(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		ok := e.newPod("default", "live-ok-"+tag, false)
		defer ok.remove()
		if _, err := ok.create(nil); err != nil {
			t.Fatalf("allowed pod: %s", guardText(err.Error()))
		}
		bad := e.newPod("default", "live-bad-"+tag, false)
		defer bad.remove()
		if _, err := bad.create(map[string]any{"mounts": []any{map[string]any{"host_path": "/run", "container_path": "/host-run"}}}); err == nil {
			t.Fatal("a pod mounting /run was not refused")
		}
		// CAP_SYS_ADMIN is the wrapper's to judge: NRI cannot see it.
		wrapperOnly := e.newPod("default", "live-wrapper-"+tag, false)
		defer wrapperOnly.remove()
		if id, err := wrapperOnly.create(map[string]any{"linux": map[string]any{"security_context": map[string]any{"capabilities": map[string]any{"add_capabilities": []any{"SYS_ADMIN"}}}}}); err != nil {
			t.Fatalf("the wrapper's pod was refused at create, by the plugin: %s", guardText(err.Error()))
		} else if _, err := e.crictl("start", id); err == nil {
			t.Fatal("a container adding CAP_SYS_ADMIN started")
		}
		out, err := e.inNamespace(guardBin, "status", "--json", "--decision-log", e.decisionLog()).Output()
		var report struct {
			Wrapper *struct {
				Counts   map[string]int64 `json:"counts"`
				Refusals []struct{ Workload, Text string }
			} `json:"wrapper"`
			Health string `json:"health"`
			Source string `json:"source"`
			Live   *struct {
				Connected bool                        `json:"connected"`
				Active    []string                    `json:"active"`
				Counts    map[string]map[string]int64 `json:"counts"`
				Refusals  []struct{ Workload, Text string }
			} `json:"live"`
		}
		if jerr := json.Unmarshal(out, &report); jerr != nil || report.Live == nil {
			t.Fatalf("status --json: %v %v\n%s", err, jerr, out)
		}
		if !strings.HasPrefix(report.Source, "live") || !report.Live.Connected || report.Live.Counts["create"]["refuse"] != 1 || len(report.Live.Active) == 0 {
			t.Fatalf("live status lacks the connection, the counts or the controls:\n%s", out)
		}
		found := false
		for _, r := range report.Live.Refusals {
			found = found || r.Workload == "default/live-bad-"+tag+"/c1" && strings.Contains(r.Text, "host-mounts")
		}
		if !found {
			t.Fatalf("the refusal is not among the last ones:\n%s", out)
		}
		if report.Wrapper == nil || report.Wrapper.Counts["create-refuse"] != 1 || len(report.Wrapper.Refusals) != 1 ||
			report.Wrapper.Refusals[0].Workload != "default/live-wrapper-"+tag+"/c1" || !strings.Contains(report.Wrapper.Refusals[0].Text, "CAP_SYS_ADMIN") {
			t.Fatalf("status does not show the wrapper's one refusal (want create-refuse 1 and its text):\n%s", out)
		}
		e.stopGuard(syscall.SIGKILL)
		down, err := e.inNamespace(guardBin, "status").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(down), "is NOT running") || strings.Count(strings.TrimSpace(string(down)), "\n") != 0 {
			t.Fatalf("status with the plugin killed: want exit 2 and one line saying it is NOT running: %v\n%s", err, down)
		}
		t.Logf("with the plugin killed:\n%s", down)
	})
}
