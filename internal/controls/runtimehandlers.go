package controls

import (
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// RuntimeHandlers refuses pods that would run under a runtime no guard
// sees whole. containerd runs each runtime handler (a RuntimeClass: K3s
// registers crun, nvidia, the wasm shims, ...) with its own binary; only
// a handler whose binary is nri-guard's runtime wrapper gets the
// full-spec controls (capabilities, privileged, the read-only root,
// no_new_privs, ...), which NRI can neither see nor change. A pod of any
// other handler is refused unless the policy trusts that handler to
// isolate by other means (a VM, a user-space kernel): those pods are let
// through, and the NRI plugin's decision log says which controls they
// were not given (IsolatedNote).
type RuntimeHandlers struct{}

func (RuntimeHandlers) Meta() Meta {
	return Meta{
		ID: "runtime-handlers", Key: "runtimeHandlers",
		Reads: "the pod's runtime handler (NRI's `runtime_handler`; containerd's untrusted-workload annotation)",
		Does:  "refuses pods whose handler (RuntimeClass) is neither `guarded` (its binary is the wrapper; default `[\"\", runc]`, the installer writes what it wrapped) nor `isolated` (trusted to isolate by other means, e.g. kata, gVisor; default none; their pods run without the wrapper-only controls and the decision log says so)",
	}
}

func (RuntimeHandlers) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	rh := &s.RuntimeHandlers
	h := policy.RuntimeHandler(c.Pod.RuntimeHandler)
	if slices.Contains(rh.Guarded.Value, h) || slices.Contains(rh.Isolated.Value, h) {
		return nil
	}
	name := HandlerName(c.Pod.RuntimeHandler)
	return []Finding{{
		Control: "runtime-handlers", Field: "pod.runtimeHandler", Value: name,
		Problem: "runs under a runtime handler whose binary is not nri-guard's runtime wrapper, so " +
			"its capabilities, privileged flag, read-only root, no_new_privs and user would not be judged",
		Rule: "runtimeHandlers.guarded", Source: rh.Guarded.Source, Verdict: Refuse,
		Fix: "set nri-guard-runc as that runtime's BinaryName (`nri-guard install k3s` does it for every runc-compatible runtime) " +
			"and add " + h.String() + " to runtimeHandlers.guarded, or, if it isolates its pods by other means (kata, gVisor), " +
			"add it to runtimeHandlers.isolated",
	}}
}

// HandlerName is a runtime handler as refusals and logs name it.
func HandlerName(h string) string {
	if h == "" {
		return `"" (containerd's default runtime)`
	}
	return h
}

// IsolatedNote says, for a container whose handler the settings list as
// isolated (and not guarded), which controls it is not given: the runtime
// wrapper never runs for it. "" for every other container.
func IsolatedNote(c *view.Container, s *policy.Controls) string {
	rh := &s.RuntimeHandlers
	h := policy.RuntimeHandler(c.Pod.RuntimeHandler)
	if rh.Mode.Value == policy.Off || slices.Contains(rh.Guarded.Value, h) || !slices.Contains(rh.Isolated.Value, h) {
		return ""
	}
	var skipped []string
	for _, ctl := range All {
		if m := ctl.Meta(); m.Needs == CapFullSpec {
			skipped = append(skipped, m.ID)
		}
	}
	return "runtime handler " + HandlerName(c.Pod.RuntimeHandler) + " is trusted to isolate by other means (runtimeHandlers.isolated, " +
		rh.Isolated.Source.String() + "): the runtime wrapper does not run for it, so " + strings.Join(skipped, ", ") + " are not applied"
}
