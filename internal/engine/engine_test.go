package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const header = "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"

func testEngine(t testing.TB, doc string, unavailable map[string]string) *Engine {
	t.Helper()
	p, err := policy.Parse(policy.Input{Name: "/etc/nri-guard/policy.yaml", Data: []byte(header + doc)})
	if err != nil {
		t.Fatal(err)
	}
	env := controls.Profiles{"": {DefaultAction: specs.ActErrno}}
	caller := controls.SeesEverything("test")
	caller.Self = "10-nri-guard"
	for id := range unavailable {
		caller.Caps[neededBy(id)] = false
	}
	return New(p, env, caller)
}

func container(mod func(*view.Container)) *view.Container {
	c := &view.Container{
		ID: "c1", Name: "c1",
		Pod:   view.Pod{ID: "s1", UID: "u1", Name: "evil", Namespace: "kube-system"},
		Image: "docker.io/library/busybox:1.36",
		Namespaces: []view.Namespace{
			{Type: "pid", Path: "/proc/9/ns/pid"}, {Type: "ipc", Path: "/proc/9/ns/ipc"},
			{Type: "network", Path: "/proc/9/ns/net"}, {Type: "mount"},
		},
		Seccomp: view.Seccomp{State: view.SeccompRuntimeDefault},
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func runMount(c *view.Container) {
	c.Mounts = append(c.Mounts, view.Mount{Source: "/run", Destination: "/host-run", Type: "bind", Options: []string{"rbind", "rw"}})
}

func TestRefusalTextNamesEverything(t *testing.T) {
	e := testEngine(t, "controls:\n  hostMounts:\n    action: refuse\n", nil)
	d := e.Decide(container(runMount))
	if d.Action != Refuse {
		t.Fatalf("action %s, want refuse", d.Action)
	}
	want := "nri-guard: refused kube-system/evil/c1: host-mounts: mounts[/host-run].source = /run: contains /run/k3s/containerd/containerd.sock, denied, by rule hostMounts.paths (built-in default); to allow it, add an exception for this pod that sets hostMounts.allow: [/run]"
	if got := d.RefusalText(); got != want {
		t.Fatalf("refusal text\n got: %s\nwant: %s", got, want)
	}
}

func TestModes(t *testing.T) {
	unconfined := func(c *view.Container) { c.Seccomp = view.Seccomp{State: view.SeccompUnconfined} }
	cases := []struct {
		name     string
		policy   string
		mod      func(*view.Container)
		action   Action
		findings int
		rewrites int
	}{
		{"clean container allowed", "", nil, Allow, 0, 0},
		{"enforce refuses", "", runMount, Refuse, 1, 0},
		{"enforce rewrites", "", unconfined, Rewrite, 1, 1},
		{"refuse beats rewrite, and a refusal rewrites nothing", "", func(c *view.Container) { runMount(c); unconfined(c) }, Refuse, 2, 0},
		{"audit allows unchanged", "defaultMode: audit\n", runMount, Audit, 1, 0},
		{"audit rewrites nothing", "defaultMode: audit\n", unconfined, Audit, 1, 0},
		{"per-control audit", "controls:\n  hostMounts: {mode: audit}\n", func(c *view.Container) { runMount(c); unconfined(c) }, Rewrite, 2, 1},
		{"off looks away", "controls:\n  hostMounts: {mode: off}\n", runMount, Allow, 0, 0},
		{"exception switches a control off for one pod", "exceptions:\n  - name: x\n    match: {pods: [evil]}\n    controls: {hostMounts: {mode: off}}\n", runMount, Allow, 0, 0},
		{"exception for another pod does not apply", "exceptions:\n  - name: x\n    match: {pods: [good]}\n    controls: {hostMounts: {mode: off}}\n", runMount, Refuse, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := testEngine(t, tc.policy, nil).Decide(container(tc.mod))
			if d.Action != tc.action || len(d.Findings) != tc.findings || len(d.Rewrites) != tc.rewrites {
				t.Fatalf("got %s with %d findings, %d rewrites; want %s, %d, %d", d.Action, len(d.Findings), len(d.Rewrites), tc.action, tc.findings, tc.rewrites)
			}
		})
	}
}

func TestUnavailableControlsAreSkipped(t *testing.T) {
	e := testEngine(t, "", map[string]string{"seccomp": "containerd v2.1.9 has no seccomp-adjustment"})
	d := e.Decide(container(func(c *view.Container) { c.Seccomp = view.Seccomp{State: view.SeccompUnconfined} }))
	if d.Action != Allow {
		t.Fatalf("an unavailable control must not claim a rewrite the runtime drops; got %s", d.Action)
	}
}

func TestDecisionNamesTheException(t *testing.T) {
	e := testEngine(t, "exceptions:\n  - name: ks\n    match: {namespaces: [kube-system]}\n    controls: {sysctls: {mode: off}}\n", nil)
	d := e.Decide(container(nil))
	if d.Exception == nil || d.Exception.Name != "ks" {
		t.Fatalf("exception = %v", d.Exception)
	}
	if !strings.HasPrefix(WorkloadName(d.Container), "kube-system/evil/") {
		t.Fatal(WorkloadName(d.Container))
	}
}

// TestRefusalIsATypedError: callers find the decision behind a refusal
// with errors.As, and the text is RefusalText's, with the note after it.
func TestRefusalIsATypedError(t *testing.T) {
	d := Decision{Container: &view.Container{Name: "c", Pod: view.Pod{Namespace: "ns", Name: "p"}}, Action: Refuse}
	var err error = fmt.Errorf("wrapped: %w", &Refusal{Decision: &d, Note: "judged after all NRI plugins ran"})
	var r *Refusal
	if !errors.As(err, &r) || r.Decision != &d {
		t.Fatal("errors.As does not find the refusal")
	}
	if got := r.Error(); got != "nri-guard: refused ns/p/c:  (judged after all NRI plugins ran)" {
		t.Errorf("text %q", got)
	}
}

// TestDecideFinal: after all plugins ran nothing can be rewritten, so
// what enforce would rewrite is refused; audit stays audit.
func TestDecideFinal(t *testing.T) {
	unconfined := func(c *view.Container) { c.Seccomp = view.Seccomp{State: view.SeccompUnconfined} }
	for name, tc := range map[string]struct {
		policy string
		mod    func(*view.Container)
		want   Action
	}{
		"a rewrite is refused":   {"", unconfined, Refuse},
		"audit stays audit":      {"defaultMode: audit\n", unconfined, Audit},
		"clean stays allowed":    {"", nil, Allow},
		"a refusal stays refuse": {"", runMount, Refuse},
	} {
		d := testEngine(t, tc.policy, nil).DecideFinal(container(tc.mod))
		if d.Action != tc.want || len(d.Rewrites) != 0 {
			t.Errorf("%s: %s with %d rewrites, want %s and none", name, d.Action, len(d.Rewrites), tc.want)
		}
		if tc.want == Refuse && !strings.Contains(d.RefusalText(), ": ") {
			t.Errorf("%s: refusal names nothing: %s", name, d.RefusalText())
		}
	}
}

// neededBy is the capability the control id needs.
func neededBy(id string) string {
	for _, ctl := range controls.All {
		if m := ctl.Meta(); m.ID == id {
			return m.Needs
		}
	}
	return ""
}
