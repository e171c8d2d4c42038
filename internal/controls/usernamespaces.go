package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// UserNamespaces refuses pods that run in the node's user namespace when
// the policy requires one: a process that escapes as uid 0 then lands as
// an unprivileged node uid instead of root. Kubernetes asks for one with
// hostUsers: false, which containerd serves with idmapped image layers.
// NRI shows a container's user namespace entry, so the plugin judges it;
// the wrapper judges the pod sandbox, which NRI never shows.
type UserNamespaces struct{}

func (UserNamespaces) Meta() Meta {
	return Meta{
		ID: "user-namespaces", Key: "userNamespaces", Since: policy.APIVersion,
		Description: "require pods to run in a user namespace of their own",
		Reads:       []string{"linux.namespaces.user"},
	}
}

func (UserNamespaces) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	un := &s.UserNamespaces
	if un.Want.Value != policy.UserNSRequire || !c.InHostNamespace("user") {
		return nil
	}
	return []Finding{{
		Control: "user-namespaces", Field: "linux.namespaces.user", Value: namespaceValue(c, "user"),
		Problem: "runs in the node's user namespace, where uid 0 is root on the node",
		Rule:    "userNamespaces.want", Source: un.Want.Source, Verdict: Refuse,
		Fix: "set hostUsers: false in the pod spec, or add an exception for this pod that sets userNamespaces.mode: off",
	}}
}
