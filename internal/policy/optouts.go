package policy

import "fmt"

// UserNamespaceOptOuts lists the exceptions that keep matching pods in
// the node's user namespace while the policy otherwise requires or gives
// one: what cannot run in a user namespace (a host device, a host
// namespace) is named here so an admin sees every such hole at start.
func (p *Policy) UserNamespaceOptOuts() []string {
	if p.Controls.UserNamespaces.Mode.Value == Off {
		return nil
	}
	var out []string
	for _, exc := range p.Exceptions {
		if m := exc.Effective.UserNamespaces.Mode.Value; m != Enforce {
			out = append(out, fmt.Sprintf("exception %q (%s) leaves pods matching %s in the node's user namespace (userNamespaces.mode: %s)",
				exc.Name, exc.Source, exc.Match.describe(), m))
		}
	}
	return out
}

func (m Match) describe() string {
	s := ""
	add := func(name string, v any) {
		if s != "" {
			s += " and "
		}
		s += fmt.Sprintf("%s %v", name, v)
	}
	if len(m.Namespaces) > 0 {
		add("namespaces", m.Namespaces)
	}
	if len(m.Pods) > 0 {
		add("pods", m.Pods)
	}
	if len(m.Containers) > 0 {
		add("containers", m.Containers)
	}
	if len(m.Images) > 0 {
		add("images", m.Images)
	}
	if len(m.Labels) > 0 {
		add("labels", m.Labels)
	}
	if s == "" {
		return "everything"
	}
	return s
}
