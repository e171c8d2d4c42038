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
		ID: "lsm", Key: "lsm", Needs: CapFullSpec,
		Reads: "AppArmor profile, SELinux label",
		Does:  "refuses `unconfined` / `spc_t` where the node enforces the LSM; with `selinuxTypes`, `selinuxUsers`, `selinuxRoles`, any SELinux type, user or role not listed. A pod sandbox has no AppArmor profile by containerd's design and is not refused for it",
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
	case env.SELinux:
		return selinuxLists(f, p.SELinuxLabel, &s.LSM)
	default:
		return nil
	}
	return []Finding{f}
}

// selinuxPart is one field of user:role:type:level with the list that
// allows its values.
type selinuxPart struct {
	name  string // in the pod's seLinuxOptions
	index int
	list  policy.Setting[[]policy.Glob]
	rule  string
}

// selinuxLists checks the label's user, role and type against the lists
// the policy sets (the presets: the Standard's types, and the runtime's
// default user and role, since the Standard forbids setting them).
func selinuxLists(f Finding, label string, l *policy.LSM) []Finding {
	parts := []selinuxPart{
		{"type", 2, l.SELinuxTypes, "lsm.selinuxTypes"},
		{"user", 0, l.SELinuxUsers, "lsm.selinuxUsers"},
		{"role", 1, l.SELinuxRoles, "lsm.selinuxRoles"},
	}
	for _, pt := range parts {
		v := labelField(label, pt.index)
		if !pt.list.Set || anyMatch(pt.list.Value, v) {
			continue
		}
		f.Field, f.Value = "process.selinuxLabel", label
		f.Problem = "SELinux " + pt.name + " " + v + " is not in the allowed list"
		f.Rule, f.Source = pt.rule, pt.list.Source
		f.Fix = "remove seLinuxOptions." + pt.name + " from the pod, or add an exception for this pod that sets " + pt.rule + " with it"
		return []Finding{f}
	}
	return nil
}

// labelField is field i of user:role:type:level ("" if none).
func labelField(label string, i int) string {
	parts := strings.SplitN(label, ":", 4)
	if len(parts) <= i {
		return ""
	}
	return parts[i]
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
