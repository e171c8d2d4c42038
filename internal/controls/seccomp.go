package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Seccomp makes every container run under a seccomp filter: without one,
// the kernel's whole system call surface (mount, bpf, keyctl, ...) is one
// bug away from the node.
type Seccomp struct{}

func (Seccomp) Meta() Meta {
	return Meta{
		ID: "seccomp", Key: "seccomp", Since: policy.APIVersion,
		Description: "give unconfined containers the node's default seccomp profile, or refuse them",
		Reads:       []string{"linux.seccomp", "seccomp profile requested"},
		Rewrites:    []string{"linux.seccomp"},
		Needs:       CapSeccompAdjustment,
	}
}

func (Seccomp) Check(c *view.Container, s *policy.Controls, env *Env) []Finding {
	sc := &s.Seccomp
	switch {
	case c.Seccomp.State == view.SeccompUnconfined:
		return []Finding{unconfined(c, sc, env)}
	case c.Seccomp.State == view.SeccompLocalhost && sc.Localhost.Value == policy.Refuse:
		return []Finding{{
			Control: "seccomp", Field: "linux.seccomp", Value: "Localhost " + c.Seccomp.LocalhostRef,
			Problem: "custom profiles from the node are not allowed",
			Rule:    "seccomp.localhost", Source: sc.Localhost.Source,
			Verdict: Refuse, Fix: exceptionFix("seccomp.localhost: allow"),
		}}
	case c.Seccomp.State == view.SeccompCustom && c.Seccomp.AddedBy != "" && c.Seccomp.AddedBy != env.Self:
		return []Finding{{
			Control: "seccomp", Field: "linux.seccomp", Value: "replaced",
			Problem: "another plugin replaced the container's seccomp filter",
			By:      c.Seccomp.AddedBy,
			Rule:    "seccomp.mode", Source: sc.Mode.Source,
			Verdict: Refuse, Fix: "remove the seccomp adjustment from that plugin, or add an exception for this pod that sets seccomp.mode: off",
		}}
	}
	return nil
}

func unconfined(c *view.Container, sc *policy.Seccomp, env *Env) Finding {
	f := Finding{
		Control: "seccomp", Field: "linux.seccomp", Value: "unconfined",
		By:   c.Seccomp.AddedBy,
		Rule: "seccomp.unconfined", Source: sc.Unconfined.Source,
		Fix: "set a seccomp profile (RuntimeDefault) in the pod's securityContext, or add an exception for this pod that sets seccomp.mode: off",
	}
	profile := env.Seccomp[sc.Profile.Value]
	name := "the node's default profile"
	if sc.Profile.Value != "" {
		name = "profile " + string(sc.Profile.Value)
	}
	switch {
	case sc.Unconfined.Value == policy.SeccompRefuse || profile == nil:
		f.Problem, f.Verdict = "containers must run under a seccomp profile", Refuse
		return f
	case hasRuleErrno(profile) && !env.SeccompErrnoRet:
		f.Problem, f.Verdict = "containers must run under a seccomp profile, and "+name+" has rules with their own errnoRet, which this runtime cannot take (containerd 2.2 crashes on them), so it is refused instead of injected", Refuse
		return f
	}
	f.Problem = "no seccomp filter; " + name + " is injected"
	f.Verdict = Rewrite
	f.Rewrite = &view.Rewrite{Kind: view.SetSeccomp, Seccomp: profile, SeccompName: name}
	return f
}

func hasRuleErrno(p *specs.LinuxSeccomp) bool {
	for _, r := range p.Syscalls {
		if r.ErrnoRet != nil {
			return true
		}
	}
	return false
}
