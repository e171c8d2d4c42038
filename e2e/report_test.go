//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestReportJudgesRunningContainers: a pod that ran while a control was
// in audit mode shows in `nri-guard report` as what enforce would refuse;
// a clean pod as allowed or rewritten; a removed one not at all.
func TestReportJudgesRunningContainers(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		// The "audit" namespace audits host mounts: the pod runs.
		audited := e.newPod("audit", "report-audited-"+tag, false)
		defer audited.remove()
		id, err := audited.create(map[string]any{"mounts": []any{map[string]any{"host_path": "/run", "container_path": "/host-run"}}})
		if err == nil {
			_, err = e.crictl("start", id)
		}
		if err != nil {
			t.Fatalf("the audited pod: %s", guardText(err.Error()))
		}
		clean := e.newPod("default", "report-clean-"+tag, false)
		defer clean.remove()
		if _, err := clean.create(nil); err != nil {
			t.Fatalf("clean pod: %s", guardText(err.Error()))
		}
		gone := e.newPod("default", "report-gone-"+tag, false)
		if _, err := gone.create(nil); err != nil {
			t.Fatalf("pod to remove: %s", guardText(err.Error()))
		}
		gone.remove()
		out, err := e.inNamespace(guardBin, "report", "--json").Output()
		var r struct {
			Containers []struct {
				Namespace, Pod, Enforce string
				Findings                []string
			}
			Pods []struct {
				Namespace, Pod, Enforce string
				Containers              []struct{ Container string }
			}
		}
		if jerr := json.Unmarshal(out, &r); err != nil || jerr != nil {
			t.Fatalf("report --json: %v %v\n%s", err, jerr, out)
		}
		got := map[string]string{}
		for _, c := range r.Containers {
			got[c.Namespace+"/"+c.Pod] = c.Enforce
			if c.Pod == "report-audited-"+tag && !strings.Contains(strings.Join(c.Findings, "\n"), "host-mounts") {
				t.Errorf("the audited pod's findings lack host-mounts: %v", c.Findings)
			}
		}
		if got["audit/report-audited-"+tag] != "refuse" || got["default/report-clean-"+tag] == "refuse" || got["default/report-clean-"+tag] == "" {
			t.Fatalf("report: %v\n%s", got, out)
		}
		// The same, grouped by pod.
		grouped := map[string]string{}
		for _, p := range r.Pods {
			if len(p.Containers) > 0 {
				grouped[p.Namespace+"/"+p.Pod] = p.Enforce
			}
		}
		if grouped["audit/report-audited-"+tag] != "refuse" || grouped["default/report-clean-"+tag] != got["default/report-clean-"+tag] {
			t.Fatalf("report --json pods: %v\n%s", grouped, out)
		}
		if _, listed := got["default/report-gone-"+tag]; listed {
			t.Fatalf("a removed container is still reported:\n%s", out)
		}
		table, _ := e.inNamespace(guardBin, "report").Output()
		t.Logf("nri-guard report:\n%s", table)
	})
}
