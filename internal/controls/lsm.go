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
	// containerd never gives a pod sandbox (pause) an AppArmor profile:
	// CRI has no field for one. Its absence there is not an opt-out.
	switch {
	case env.AppArmor && !c.Sandbox && (p.AppArmorProfile == "" || p.AppArmorProfile == "unconfined"):
		f.Field, f.Value = "process.apparmorProfile", orNone(p.AppArmorProfile)
		f.Problem = "runs without AppArmor on a node that enforces it"
	case env.SELinux && isUnconfinedSELinux(p.SELinuxLabel):
		f.Field, f.Value = "process.selinuxLabel", p.SELinuxLabel
		f.Problem = "runs as an unconfined SELinux type on a node that enforces SELinux"
	case env.SELinux && s.LSM.SELinuxTypes.Set && !anyMatch(s.LSM.SELinuxTypes.Value, selinuxType(p.SELinuxLabel)):
		f.Field, f.Value = "process.selinuxLabel", p.SELinuxLabel
		f.Problem = "SELinux type " + selinuxType(p.SELinuxLabel) + " is not in the allowed list"
		f.Rule, f.Source = "lsm.selinuxTypes", s.LSM.SELinuxTypes.Source
		f.Fix = "remove seLinuxOptions.type from the pod, or add an exception for this pod that sets lsm.selinuxTypes with it"
	default:
		return nil
	}
	return []Finding{f}
}

// selinuxType is the third field of user:role:type:level ("" if none).
func selinuxType(label string) string {
	parts := strings.SplitN(label, ":", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
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
