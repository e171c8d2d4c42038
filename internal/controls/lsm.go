package controls

import (
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// LSM refuses a container that opts out of the node's AppArmor or SELinux
// confinement. It only acts where the node has the LSM: elsewhere there
// is nothing to opt out of.
type LSM struct{}

func (LSM) Meta() Meta {
	return Meta{
		ID: "lsm", Key: "lsm", Since: policy.APIVersion,
		Description: "refuse unconfined AppArmor or SELinux where the node enforces them",
		Reads:       []string{"process.apparmorProfile", "process.selinuxLabel"},
		Needs:       CapFullSpec,
	}
}

// unconfinedSELinuxTypes run without SELinux confinement.
var unconfinedSELinuxTypes = []string{":spc_t:", ":unconfined_t:"}

func (LSM) Check(c *view.Container, s *policy.Controls, env *Env) []Finding {
	p := c.Process
	if p == nil {
		return nil
	}
	f := Finding{Control: "lsm", Rule: "lsm.mode", Source: s.LSM.Mode.Source, Verdict: Refuse,
		Fix: "remove the unconfined setting from the pod's securityContext, or add an exception for this pod that sets lsm.mode: off"}
	switch {
	case env.AppArmor && (p.AppArmorProfile == "" || p.AppArmorProfile == "unconfined"):
		f.Field, f.Value = "process.apparmorProfile", orNone(p.AppArmorProfile)
		f.Problem = "runs without AppArmor on a node that enforces it"
	case env.SELinux && isUnconfinedSELinux(p.SELinuxLabel):
		f.Field, f.Value = "process.selinuxLabel", p.SELinuxLabel
		f.Problem = "runs as an unconfined SELinux type on a node that enforces SELinux"
	default:
		return nil
	}
	return []Finding{f}
}

func isUnconfinedSELinux(label string) bool {
	for _, t := range unconfinedSELinuxTypes {
		if strings.Contains(label+":", t) {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
