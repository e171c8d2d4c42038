package policy

import (
	"fmt"
	"strconv"
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
		parts = append(parts, fmt.Sprintf("%s %s", sel.key, sel.flow()))
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
	for _, sel := range []globSelector{{"namespaces", strs(m.Namespaces)}, {"pods", strs(m.Pods)}, {"containers", strs(m.Containers)}, {"images", strs(m.Images)}, {"args", argLists(m.Args)}} {
		if len(sel.values) > 0 {
			out = append(out, sel)
		}
	}
	return out
}

type globSelector struct {
	key    string
	values []string
}

// flow writes the selector's values as a YAML flow list.
func (sel globSelector) flow() string { return "[" + strings.Join(sel.values, ", ") + "]" }

func strs[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// argLists renders each command line as a quoted flow list: arguments
// hold spaces and YAML's special characters.
func argLists(lists [][]Glob) []string {
	out := make([]string, len(lists))
	for i, l := range lists {
		q := make([]string, len(l))
		for j, g := range l {
			q[j] = strconv.Quote(string(g))
		}
		out[i] = "[" + strings.Join(q, ", ") + "]"
	}
	return out
}
