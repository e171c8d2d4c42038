//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportProposesExceptions: on a node that audits a namespace, a pod
// that mounts the node's /run runs; `report --propose` writes the
// narrowest exception for it; installed as a drop-in, the pod's restarted
// container is judged under enforce by that exception and allowed (the
// node's seccomp profile injected, nothing refused), while a pod of
// another name in the namespace still is not selected by it.
func TestReportProposesExceptions(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			defer count(t)
			proposeOn(t, v)
		})
	}
}

func proposeOn(t *testing.T, v string) {
	pol := copiedPolicy(t, defaultPolicy)
	e := newEnvWith(t, v, "external", pol)
	tag := strings.ReplaceAll(v, ".", "")

	mount := map[string]any{"mounts": []any{map[string]any{"host_path": "/run", "container_path": "/host-run"}}}
	p := e.newPod("audit", "propose-"+tag, false)
	defer p.remove()
	if _, err := p.create(mount); err != nil {
		t.Fatalf("the audited pod: %s", guardText(err.Error()))
	}
	proposed := e.path("proposed.yaml")
	out, err := e.inNamespace(guardBin, "report", "--propose", proposed).CombinedOutput()
	if err != nil {
		t.Fatalf("report --propose: %v\n%s", err, out)
	}
	text := readFile(proposed)
	t.Logf("report --propose:\n%s\n%s", out, text)
	name := "proposed-audit-propose-" + tag + "-c1"
	for _, want := range []string{"name: " + name, "namespaces: [audit]", "pods: [propose-" + tag + "]", "containers: [c1]", "allow: [/run]", "keeps what exception audit-everything"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the proposal lacks %q", want)
		}
	}
	if strings.Contains(text, "mode: audit") {
		t.Fatal("the proposal carries the audit exception's audit modes: it is meant for enforce")
	}
	must(t, os.Rename(proposed, filepath.Join(pol.Dir, "90-proposed.yaml")))

	// The guard loads the drop-in at its next reload; then the pod's c1
	// restarts (attempt 1, as kubelet does) and is judged by the proposal.
	e.poll("the guard to load the proposal", 15*time.Second, func() bool {
		for _, line := range strings.Split(readFile(e.path("nri-guard.log")), "\n") {
			if strings.Contains(line, "policy reloaded") && strings.Contains(line, "90-proposed.yaml") {
				return true
			}
		}
		return false
	})
	id, err := p.create(merge(mount, map[string]any{"metadata": map[string]any{"name": "c1", "attempt": 1}}))
	if err != nil {
		t.Fatalf("creation under the proposal: %s", guardText(err.Error()))
	}
	rec := e.decisionByID(id, "create")
	if rec["exception"] != name {
		t.Fatalf("the restarted container is judged by %v, not by the proposal %s: %v", rec["exception"], name, rec)
	}
	// Allowed, perhaps rewritten (the node's seccomp profile injected),
	// and nothing enforce would refuse.
	if rec["action"] == "refuse" || rec["action"] == "audit" {
		t.Fatalf("under the proposed exception the container is not allowed: %v", rec)
	}
	findings, _ := rec["findings"].([]any)
	for _, f := range findings {
		if f.(map[string]any)["action"] == "refuse" {
			t.Fatalf("under the proposed exception enforce still refuses: %v", f)
		}
	}
	other := e.newPod("audit", "propose-other-"+tag, false)
	defer other.remove()
	if _, err := other.create(mount); err != nil {
		t.Fatalf("the other audited pod: %s", guardText(err.Error()))
	}
	// Not selected by the proposal, it is judged as before: enforce would
	// refuse it (the audit exception logs it as "audit").
	if rec := e.decision(other.name, "c1", "create"); rec["exception"] != "audit-everything" || rec["action"] != "audit" {
		t.Fatalf("another pod of the namespace asking for the same mount: judged by %v as %v, want audit-everything and audit (refused under enforce)", rec["exception"], rec["action"])
	}
}
