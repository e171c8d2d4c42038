package cli

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/nriplugin"
)

// The report groups containers by pod, each pod with the most enforce
// would do to any of its containers, and prints the groups as its table.
func TestReportGroupsByPod(t *testing.T) {
	containers := []nriplugin.Judged{
		{Namespace: "default", Pod: "web", Container: "app", Enforce: "rewrite"},
		{Namespace: "default", Pod: "web", Container: "sidecar", Enforce: "refuse", Findings: []string{"host-mounts: ..."}},
		{Namespace: "default", Pod: "worker", Container: "app", Enforce: "allow"},
		{Namespace: "shop", Pod: "web", Container: "app", Enforce: "allow"},
	}
	pods := byPod(containers)
	want := []struct {
		ns, pod, enforce string
		n                int
	}{
		{"default", "web", "refuse", 2}, {"default", "worker", "allow", 1}, {"shop", "web", "allow", 1},
	}
	if len(pods) != len(want) {
		t.Fatalf("%d pods, want %d: %+v", len(pods), len(want), pods)
	}
	for i, w := range want {
		if p := pods[i]; p.Namespace != w.ns || p.Pod != w.pod || p.Enforce != w.enforce || len(p.Containers) != w.n {
			t.Errorf("pod %d: %s/%s %s with %d containers, want %s/%s %s with %d", i, p.Namespace, p.Pod, p.Enforce, len(p.Containers), w.ns, w.pod, w.enforce, w.n)
		}
	}
	var out strings.Builder
	printReport(&out, &report{Pods: pods, Containers: containers, Summary: map[string]int{"refuse": 1, "rewrite": 1, "allow": 2}})
	for _, line := range []string{"4 running containers: 2 allowed, 1 rewritten, 1 refused", "\ndefault/web\n", "  REFUSE   sidecar", "           host-mounts: ...", "\nshop/web\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the table lacks %q:\n%s", line, out.String())
		}
	}
}
