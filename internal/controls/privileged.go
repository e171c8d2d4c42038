package controls

import (
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Privileged recognises a privileged container from its whole spec: every
// capability, or CAP_SYS_ADMIN with the kernel's masked paths taken away
// (that is what "privileged: true" produces). The spec has no flag for it.
type Privileged struct{}

func (Privileged) Meta() Meta {
	return Meta{
		ID: "privileged", Key: "privileged", Needs: CapFullSpec,
		Reads: "capabilities, masked paths, `/sys`",
		Does:  "refuses privileged containers (every capability, or `CAP_SYS_ADMIN` without masked paths or with a writable `/sys`)",
	}
}

// privilegedCapCount: a set this large is "all capabilities" on any
// kernel nri-guard supports (there are 41).
const privilegedCapCount = 38

func (Privileged) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	p := c.Process
	if p == nil {
		return nil
	}
	caps := p.Capabilities.All()
	sysAdmin := slices.Contains(caps, "CAP_SYS_ADMIN")
	var signs []string
	if len(caps) >= privilegedCapCount {
		signs = append(signs, "all capabilities")
	}
	if sysAdmin && len(p.MaskedPaths) == 0 {
		signs = append(signs, "CAP_SYS_ADMIN without masked paths")
	}
	if sysAdmin && writableSys(c) {
		signs = append(signs, "writable /sys")
	}
	if len(signs) == 0 {
		return nil
	}
	return []Finding{{
		Control: "privileged", Field: "process", Value: strings.Join(signs, ", "),
		Problem: "privileged container", Rule: "privileged.mode", Source: s.Privileged.Mode.Source,
		Verdict: Refuse, Fix: "privileged containers are refused; to allow this one, add an exception for this pod that sets privileged.mode: off",
	}}
}

func writableSys(c *view.Container) bool {
	for _, m := range c.Mounts {
		if m.Destination == "/sys" && !m.ReadOnly() {
			return true
		}
	}
	return false
}
