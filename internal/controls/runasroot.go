package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// RunAsRoot acts on a process that runs as uid 0 in the node's user
// namespace, where an escape lands as root on the node: it refuses the
// container, or remaps it into a user namespace where uid 0 is an
// unprivileged node uid. Inside a user namespace of its own, uid 0
// passes. Off by default (most images run as root); the restricted
// preset turns it on.
type RunAsRoot struct{}

func (RunAsRoot) Meta() Meta {
	return Meta{
		ID: "run-as-root", Key: "runAsRoot", Since: policy.APIVersion,
		Description: "refuse uid 0 outside a user namespace, or remap it into one",
		Reads:       []string{"process.user.uid", "linux.namespaces.user"},
		Rewrites:    []string{"linux.namespaces.user"},
		Needs:       CapFullSpec,
	}
}

func (RunAsRoot) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	p := c.Process
	if p == nil || c.Sandbox || p.UID != 0 {
		return nil
	}
	if p.UserNamespace {
		if f := untrustedRoot(c, s); f != nil {
			return []Finding{*f}
		}
		return nil
	}
	const problem = "runs as root in the node's user namespace"
	if s.RunAsRoot.Action.Value == policy.RootRemap {
		f := userNamespaceFinding(c, "run-as-root", problem, "runAsRoot.action", s.RunAsRoot.Action.Source, "runAsRoot.mode: off")
		f.Field, f.Value = "process.user.uid", "0"
		return []Finding{f}
	}
	return []Finding{{
		Control: "run-as-root", Field: "process.user.uid", Value: "0",
		Problem: problem,
		Rule:    "runAsRoot.mode", Source: s.RunAsRoot.Mode.Source, Verdict: Refuse,
		Fix: "set runAsNonRoot/runAsUser to a non-zero uid, or hostUsers: false, or add an exception for this pod that sets runAsRoot.mode: off",
	}}
}

// untrustedRoot refuses uid 0 in a user namespace that maps it onto the
// node's privileged ids (a CRI client's userns_options can map container
// root to host root): it is root on the node all the same. Remapping
// would only join the same namespace again, so both actions refuse.
func untrustedRoot(c *view.Container, s *policy.Controls) *Finding {
	problem := userNamespaceProblem(c.Process, s)
	if problem == "" {
		return nil
	}
	return &Finding{
		Control: "run-as-root", Field: "process.user.uid", Value: "0",
		Problem: "runs as root in a user namespace that does not keep it off the node's root: " + problem,
		Rule:    "runAsRoot.mode", Source: s.RunAsRoot.Mode.Source, Verdict: Refuse,
		Fix: "map the pod's ids to host ids from userNamespaces.minHostID up (hostUsers: false lets kubelet pick them), " +
			"or run as a non-zero uid, or add an exception for this pod that sets runAsRoot.mode: off",
	}
}
