package controls

import (
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Sysctls allows only listed sysctls. A net.* sysctl in the host network
// namespace is refused even when listed: there it sets the node's value.
type Sysctls struct{}

func (Sysctls) Meta() Meta {
	return Meta{
		ID: "sysctls", Key: "sysctls",
		Reads: "linux.sysctl",
		Does:  "only the allowlist (default: the Kubernetes safe set); `net.*` in the host network namespace is refused",
	}
}

func (Sysctls) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	allow := s.Sysctls.Allow
	var out []Finding
	for _, name := range sortedNames(c.Sysctls) {
		f := Finding{
			Control: "sysctls", Field: "linux.sysctl[" + name + "]", Value: c.Sysctls[name],
			Rule: "sysctls.allow", Source: allow.Source, Verdict: Refuse,
			Fix:   exceptionFix("sysctls.allow with " + name),
			Grant: &policy.Grant{Key: "sysctls.allow", Add: []string{name}},
		}
		switch {
		case !anyMatch(allow.Value, name):
			f.Problem = "sysctl not in the allowlist"
		case strings.HasPrefix(name, "net.") && c.InHostNamespace("network"):
			f.Problem = "a net.* sysctl in the host network namespace would change the node's own setting"
			f.Fix = "run the pod in its own network namespace"
			f.Grant, f.Final = nil, "a net.* sysctl in the node's network namespace changes the node itself"
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
