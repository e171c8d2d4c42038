package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// HostNamespaces refuses containers that share the node's PID, IPC,
// network (or UTS) namespace: from the host PID namespace a process can
// signal and ptrace node processes; from the host network it reaches
// every node-local service.
type HostNamespaces struct{}

func (HostNamespaces) Meta() Meta {
	return Meta{
		ID: "host-namespaces", Key: "hostNamespaces",
		Reads: "linux.namespaces",
		Does:  "refuses pods sharing the node's pid, ipc or network namespace (a missing entry, or a path that is the node's own)",
	}
}

func (HostNamespaces) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	var out []Finding
	deny := s.HostNamespaces.Deny
	for _, t := range deny.Value {
		if !c.InHostNamespace(string(t)) {
			continue
		}
		out = append(out, Finding{
			Control: "host-namespaces",
			Field:   "linux.namespaces." + string(t),
			Value:   namespaceValue(c, string(t)),
			Problem: "shares the node's " + string(t) + " namespace",
			By:      namespaceOwner(c, string(t)),
			Rule:    "hostNamespaces.deny", Source: deny.Source,
			Verdict: Refuse,
			Fix:     exceptionFix("hostNamespaces.deny without " + string(t)),
			Grant:   &policy.Grant{Key: "hostNamespaces.deny", Remove: []string{string(t)}},
		})
	}
	return out
}

func namespaceValue(c *view.Container, t string) string {
	for _, ns := range c.Namespaces {
		if ns.Type == t {
			return ns.Path
		}
	}
	return "(absent: host)"
}

func namespaceOwner(c *view.Container, t string) string {
	for _, ns := range c.Namespaces {
		if ns.Type == t {
			return ns.AddedBy
		}
	}
	return ""
}
