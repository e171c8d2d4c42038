package policy

import (
	"fmt"
	"strings"
)

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
	var parts []string
	for _, sel := range m.globSelectors() {
		parts = append(parts, fmt.Sprintf("%s %v", sel.key, sel.globs))
	}
	if len(m.Labels) > 0 {
		parts = append(parts, fmt.Sprintf("labels %v", m.Labels))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, " and ")
}

// globSelectors are the selectors given by globs, with their keys, in
// the order the schema lists them; those left empty are left out.
func (m Match) globSelectors() []globSelector {
	var out []globSelector
	for _, sel := range []globSelector{{"namespaces", m.Namespaces}, {"pods", m.Pods}, {"containers", m.Containers}, {"images", m.Images}} {
		if len(sel.globs) > 0 {
			out = append(out, sel)
		}
	}
	return out
}

type globSelector struct {
	key   string
	globs []Glob
}
