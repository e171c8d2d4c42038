package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// ReadOnlyRoot makes the root filesystem read-only, so a compromised
// process cannot plant binaries or edit the image. Writable volumes
// (emptyDir and friends) are mounts and stay as they are.
type ReadOnlyRoot struct{}

func (ReadOnlyRoot) Meta() Meta {
	return Meta{
		ID: "read-only-root", Key: "readOnlyRootFilesystem", Needs: CapFullSpec,
		Reads: "`root.readonly`",
		Does:  "makes the root filesystem read-only (`action: force`) or refuses (`refuse`); volumes stay writable",
	}
}

func (ReadOnlyRoot) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	if c.Process == nil || c.Process.RootReadonly {
		return nil
	}
	return []Finding{forceFinding("read-only-root", "root.readonly", "writable root filesystem",
		"readOnlyRootFilesystem.action", s.ReadOnlyRoot.Action, view.SetRootReadonly,
		"set readOnlyRootFilesystem: true (write to volumes), or add an exception for this pod that sets readOnlyRootFilesystem.mode: off")}
}

// forceFinding is the shared shape of "must be on": rewrite it on, or
// refuse, per the control's action.
func forceFinding(control, field, problem, rule string, action policy.Setting[policy.ForceAction], kind view.RewriteKind, fix string) Finding {
	f := Finding{Control: control, Field: field, Value: "false", Problem: problem, Rule: rule, Source: action.Source, Fix: fix}
	if action.Value == policy.ForceRefuse {
		f.Verdict = Refuse
		return f
	}
	f.Verdict, f.Rewrite = Rewrite, &view.Rewrite{Kind: kind}
	f.Problem += " (set to true)"
	return f
}
