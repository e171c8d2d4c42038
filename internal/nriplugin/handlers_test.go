package nriplugin

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// A pod of a runtime handler the wrapper does not guard is refused over
// real ttrpc, naming the handler and the settings; the default runtime's
// pods pass.
func TestUnguardedRuntimeHandlerIsRefused(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	pod := testPod("default", "fast")
	pod.RuntimeHandler = "crun"
	_, err := h.create(pod, testContainer("c1"))
	want := "nri-guard: refused default/fast/c1: runtime-handlers: pod.runtimeHandler = crun: runs under a runtime handler whose binary is not nri-guard's runtime wrapper"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "add crun to runtimeHandlers.guarded") || !strings.Contains(err.Error(), "runtimeHandlers.isolated") {
		t.Fatalf("got %v, want it to contain %s", err, want)
	}
	if rec := h.lastDecision(t); rec.Action != "refuse" || rec.RuntimeHandler != "crun" {
		t.Fatalf("decision log: %+v", rec)
	}
	// A pod author's route to containerd's "untrusted" runtime.
	pod = testPod("default", "sneaky")
	pod.Annotations = map[string]string{"io.kubernetes.cri.untrusted-workload": "true"}
	if _, err := h.create(pod, testContainer("c2")); err == nil || !strings.Contains(err.Error(), "pod.runtimeHandler = untrusted:") {
		t.Fatalf("untrusted-workload pod: %v", err)
	}
	for _, rh := range []string{"", "runc"} {
		pod = testPod("default", "plain")
		pod.RuntimeHandler = rh
		if _, err := h.create(pod, testContainer("c3")); err != nil {
			t.Fatalf("default runtime %q refused: %v", rh, err)
		}
	}
}

// The decision log of an isolated handler's container says which
// controls it did not get; an exception's settings count.
func TestIsolatedNoteFollowsTheException(t *testing.T) {
	pol, err := policy.Parse(policy.Input{Name: "p.yaml", Data: []byte(`apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
controls:
  runtimeHandlers: {isolated: [kata]}
exceptions:
  - name: sandboxed
    match: {namespaces: [untrusted]}
    controls:
      runtimeHandlers: {isolated: [runsc]}
`)})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(pol, nil, controls.SeesEverything("test"))
	note := func(ns, handler string) string {
		d := eng.Decide(&view.Container{Name: "c", Pod: view.Pod{Namespace: ns, Name: "p", RuntimeHandler: handler}})
		return isolatedNote(eng, &d)
	}
	if n := note("default", "kata"); !strings.Contains(n, "runtime handler kata is trusted to isolate by other means (runtimeHandlers.isolated, p.yaml:4)") || !strings.Contains(n, "capabilities") {
		t.Errorf("kata: %q", n)
	}
	if n := note("untrusted", "runsc"); !strings.Contains(n, "runtime handler runsc") || !strings.Contains(n, "p.yaml:9") {
		t.Errorf("runsc under the exception: %q", n)
	}
	if n := note("default", ""); n != "" {
		t.Errorf("default runtime: %q", n)
	}
}
