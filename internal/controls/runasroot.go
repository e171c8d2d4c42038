package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// RunAsRoot refuses a process that runs as uid 0 in the node's user
// namespace, where an escape lands as root on the node. Inside a user
// namespace of its own, uid 0 maps to an unprivileged node uid and passes.
// Off by default (most images run as root); the restricted preset turns
// it on.
type RunAsRoot struct{}

func (RunAsRoot) Meta() Meta {
	return Meta{
		ID: "run-as-root", Key: "runAsRoot", Since: policy.APIVersion,
		Description: "refuse uid 0 outside a user namespace",
		Reads:       []string{"process.user.uid", "linux.namespaces.user"},
		Needs:       CapFullSpec,
	}
}

func (RunAsRoot) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	p := c.Process
	if p == nil || c.Sandbox || p.UID != 0 || p.UserNamespace {
		return nil
	}
	return []Finding{{
		Control: "run-as-root", Field: "process.user.uid", Value: "0",
		Problem: "runs as root in the node's user namespace",
		Rule:    "runAsRoot.mode", Source: s.RunAsRoot.Mode.Source, Verdict: Refuse,
		Fix: "set runAsNonRoot/runAsUser to a non-zero uid, or hostUsers: false, or add an exception for this pod that sets runAsRoot.mode: off",
	}}
}
