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
// container is judged by that exception and allowed (the node's seccomp
// profile injected, nothing refused). Then the namespace goes to enforce:
// the proposed workload still runs, while another pod of the namespace,
// or the same pod's container with another image, asking for the same
// mount is refused.
func TestReportProposesExceptions(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	sideBySide(t, versions, func(t *testing.T, v string) {
		proposeOn(t, v)
	})
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
	reloadedWith := func(file string) {
		e.poll("the guard to load "+file, 15*time.Second, func() bool {
			for _, line := range strings.Split(readFile(e.path("nri-guard.log")), "\n") {
				if strings.Contains(line, "policy reloaded") && strings.Contains(line, file) {
					return true
				}
			}
			return false
		})
	}
	reloadedWith("90-proposed.yaml")
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
	// The namespace goes to enforce: the audit exception, replaced by name
	// in a later drop-in, audits nothing any more.
	must(t, os.WriteFile(filepath.Join(pol.Dir, "95-audit-ends.yaml"), []byte(`apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
exceptions:
  - name: audit-everything
    match:
      namespaces: [audit]
    controls:
      hostMounts: {mode: enforce}
`), 0o644))
	reloadedWith("95-audit-ends.yaml")
	if _, err := p.create(merge(mount, map[string]any{"metadata": map[string]any{"name": "c1", "attempt": 2}})); err != nil {
		t.Fatalf("the proposed workload under enforce: %s", guardText(err.Error()))
	}
	// Same namespace, same mount: another pod name, or the same pod with
	// another image, is not selected by the proposal and is refused.
	other := e.newPod("audit", "propose-other-"+tag, false)
	defer other.remove()
	_, err = other.create(mount)
	wantRefused(t, err, "refused audit/propose-other-"+tag+"/c1: host-mounts: mounts[/host-run].source = /run")
	// The image: pinned where the runtime reports images to NRI (2.4+);
	// elsewhere the proposal says it is not.
	if !strings.Contains(text, "images: ['localhost/e2e/busybox:1']") {
		if !strings.Contains(text, "not pinned to an image: this runtime does not report images to NRI") {
			t.Fatal("the proposal neither pins the image nor says why not")
		}
		t.Logf("containerd %s reports no images to NRI: the proposal says it is not pinned to one", v)
		return
	}
	_, err = p.create(merge(mount, map[string]any{"metadata": map[string]any{"name": "c1", "attempt": 3},
		"image": map[string]any{"image": "docker.io/rancher/mirrored-library-busybox:e2e"}}))
	wantRefused(t, err, "refused audit/propose-"+tag+"/c1: host-mounts: mounts[/host-run].source = /run")
}
