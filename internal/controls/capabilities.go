package controls

import (
	"slices"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Capabilities keeps all five capability sets within the allowlist
// (default: the Pod Security Standards baseline set). A capability the
// runtime grants by default (CAP_NET_RAW) is dropped; one the workload
// asked for (CAP_SYS_ADMIN) is refused, or dropped, per policy.
type Capabilities struct{}

func (Capabilities) Meta() Meta {
	return Meta{
		ID: "capabilities", Key: "capabilities", Needs: CapFullSpec,
		Reads: "all five capability sets",
		Does:  "drops capabilities outside the allowlist (default: the Pod Security Standards baseline set); one the workload added (e.g. `CAP_SYS_ADMIN`) is refused, or dropped with `added: drop`",
	}
}

// RuntimeDefaultCapabilities is what containerd (and Docker) grant a
// container that asks for nothing; anything beyond was asked for.
var RuntimeDefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

func (Capabilities) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	if c.Process == nil {
		return nil
	}
	cp := &s.Capabilities
	var out []Finding
	for _, name := range c.Process.Capabilities.All() {
		if slices.Contains(cp.Allow.Value, policy.Capability(name)) {
			continue
		}
		f := Finding{
			Control: "capabilities", Field: "process.capabilities", Value: name,
			Rule: "capabilities.allow", Source: cp.Allow.Source,
			Fix:   exceptionFix("capabilities.allow with " + name),
			Grant: &policy.Grant{Key: "capabilities.allow", Add: []string{name}},
		}
		if !slices.Contains(RuntimeDefaultCapabilities, name) && cp.Added.Value == policy.AddedRefuse {
			f.Problem, f.Verdict = "added capability outside the allowlist", Refuse
			f.Rule, f.Source = "capabilities.added", cp.Added.Source
		} else {
			f.Problem, f.Verdict = "capability outside the allowlist (dropped from every set)", Rewrite
			f.Rewrite = &view.Rewrite{Kind: view.DropCapability, Capability: name}
		}
		out = append(out, f)
	}
	return out
}
