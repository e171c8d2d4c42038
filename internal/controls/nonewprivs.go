package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// NoNewPrivileges sets no_new_privs: setuid binaries and file
// capabilities then cannot raise a process's privileges.
type NoNewPrivileges struct{}

func (NoNewPrivileges) Meta() Meta {
	return Meta{
		ID: "no-new-privileges", Key: "noNewPrivileges", Needs: CapFullSpec,
		Reads: "`process.noNewPrivileges`",
		Does:  "sets it (`force`) or refuses",
	}
}

func (NoNewPrivileges) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	if c.Process == nil || c.Process.NoNewPrivileges {
		return nil
	}
	return []Finding{forceFinding("no-new-privileges", "process.noNewPrivileges", "privilege escalation allowed",
		"noNewPrivileges.action", s.NoNewPrivileges.Action, view.SetNoNewPrivileges,
		"set allowPrivilegeEscalation: false, or add an exception for this pod that sets noNewPrivileges.mode: off")}
}
