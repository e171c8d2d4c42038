//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportProposesExceptions: on a node that audits a namespace, a pod
// that mounts the node's /run runs; `report --propose` writes the
// narrowest exception for it; installed as a drop-in, the same pod's next
// container is judged under enforce by that exception and allowed with
// no finding, while a pod of another name in the namespace still is not
// selected by it.
func TestReportProposesExceptions(t *testing.T) {
	v := versions[0]
	defer count(t)
	dir := t.TempDir()
	pol := policyRef{File: filepath.Join(dir, "policy.yaml"), Dir: filepath.Join(dir, "policy.d")}
	data, err := os.ReadFile(defaultPolicy.File)
	must(t, err)
	must(t, os.WriteFile(pol.File, data, 0o644))
	must(t, os.MkdirAll(pol.Dir, 0o755))
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

	// The drop-in is picked up at the next reload; then the pod's new
	// container is judged by the proposed exception.
	i := 2
	e.poll("a container judged by the proposed exception", 15e9, func() bool {
		if _, err := p.create(merge(mount, containerName(i))); err != nil {
			t.Fatalf("creation under the proposal: %s", guardText(err.Error()))
		}
		rec := e.decision(p.name, fmt.Sprintf("c%d", i), "create")
		i++
		return rec["exception"] == name
	})
	rec := e.decision(p.name, fmt.Sprintf("c%d", i-1), "create")
	if findings, _ := rec["findings"].([]any); len(findings) != 0 || rec["action"] == "refuse" {
		t.Fatalf("under the proposed exception the pod still has findings: %v", rec)
	}
	other := e.newPod("audit", "propose-other-"+tag, false)
	defer other.remove()
	if _, err := other.create(mount); err != nil {
		t.Fatalf("the other audited pod: %s", guardText(err.Error()))
	}
	if rec := e.decision(other.name, "c1", "create"); rec["exception"] != "audit-everything" {
		t.Fatalf("another pod of the namespace is selected by %v", rec["exception"])
	}
}
