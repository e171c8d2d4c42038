package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// userNamespaceProblem says why the container's user namespace does not
// count as one that keeps container root off the node's privileged ids
// (view.Process.UserNamespaceProblem against userNamespaces.minHostID),
// or "" when it counts.
func userNamespaceProblem(p *view.Process, s *policy.Controls) string {
	floor := s.UserNamespaces.MinHostID
	return p.UserNamespaceProblem(uint32(floor.Value), "userNamespaces.minHostID ("+floor.Source.String()+")")
}

// untrustedUserNamespace reports the problem of a user namespace the
// container has but that does not count; "" when it has none or it
// counts.
func untrustedUserNamespace(c *view.Container, s *policy.Controls) string {
	if c.Process == nil || !c.Process.UserNamespace {
		return ""
	}
	return userNamespaceProblem(c.Process, s)
}

// userNamespaceValue names the user namespace entry: the path it joins,
// or that it is a new one.
func userNamespaceValue(c *view.Container) string {
	if v := namespaceValue(c, "user"); v != "" {
		return v
	}
	return "(a new one)"
}
