package controls

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withHandler(h string) *view.Container {
	return ctr(func(c *view.Container) { c.Pod.RuntimeHandler = h })
}

func TestRuntimeHandlers(t *testing.T) {
	refused := "runtime-handlers: pod.runtimeHandler = crun: runs under a runtime handler whose binary is not nri-guard's runtime wrapper"
	runTable(t, RuntimeHandlers{}, []testCase{
		// The benign shapes: the default runtime, however CRI names it.
		{name: "default runtime, no RuntimeClass", c: withHandler("")},
		{name: "default runtime by name", c: withHandler("runc")},
		{name: "K3s's crun, not wrapped", c: withHandler("crun"),
			want: []string{refused + ", so its capabilities, privileged flag, read-only root, no_new_privs and user would not be judged, by rule runtimeHandlers.guarded (built-in default); set nri-guard-runc as that runtime's BinaryName"}},
		{name: "the refusal names both settings", c: withHandler("crun"),
			want: []string{"add crun to runtimeHandlers.guarded, or, if it isolates its pods by other means (kata, gVisor), add it to runtimeHandlers.isolated"}},
		{name: "a wasm shim", c: withHandler("spin"), want: []string{"pod.runtimeHandler = spin:"}},
		{name: "containerd's untrusted runtime", c: withHandler("untrusted"), want: []string{"pod.runtimeHandler = untrusted:"}},
		{name: "crun wrapped and guarded", policy: "runtimeHandlers: {guarded: [\"\", runc, crun]}", c: withHandler("crun")},
		{name: "a policy that guards only crun refuses the default runtime", policy: "runtimeHandlers: {guarded: [crun]}", c: withHandler(""),
			want: []string{`pod.runtimeHandler = "" (containerd's default runtime): runs under a runtime handler whose binary is not nri-guard's runtime wrapper, so its capabilities, privileged flag, read-only root, no_new_privs and user would not be judged, by rule runtimeHandlers.guarded (test.yaml:4); set nri-guard-runc as that runtime's BinaryName (` + "`nri-guard install k3s`" + ` does it for every runc-compatible runtime) and add "" to runtimeHandlers.guarded`}},
		{name: "kata isolated", policy: "runtimeHandlers: {isolated: [kata]}", c: withHandler("kata")},
		{name: "isolated names only that handler", policy: "runtimeHandlers: {isolated: [kata]}", c: withHandler("kata-qemu"),
			want: []string{"pod.runtimeHandler = kata-qemu:"}},
		{name: "a pod sandbox of an unguarded handler (the wrapper sees it)", c: ctr(func(c *view.Container) { c.Pod.RuntimeHandler = "nvidia"; c.Sandbox = true }),
			want: []string{"pod.runtimeHandler = nvidia:"}},
	})
}

func TestIsolatedNote(t *testing.T) {
	s := loadControls(t, "runtimeHandlers: {isolated: [kata, runsc]}")
	note := IsolatedNote(withHandler("runsc"), s)
	for _, want := range []string{"runtime handler runsc is trusted to isolate by other means (runtimeHandlers.isolated, test.yaml:4)", "capabilities, privileged, read-only-root, no-new-privileges", "are not applied"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	for _, h := range []string{"", "runc", "crun"} {
		if note := IsolatedNote(withHandler(h), s); note != "" {
			t.Errorf("handler %q: note %q, want none", h, note)
		}
	}
	if note := IsolatedNote(withHandler("kata"), loadControls(t, "runtimeHandlers: {mode: off, isolated: [kata]}")); note != "" {
		t.Errorf("mode off: note %q", note)
	}
}
