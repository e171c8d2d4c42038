package controls

import (
	"regexp"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// WorkingDir refuses a working directory inside /proc/<pid>/fd: a leaked
// host directory descriptor there let a container start outside its root
// (CVE-2024-21626). Checked on create and on exec.
type WorkingDir struct{}

func (WorkingDir) Meta() Meta {
	return Meta{
		ID: "working-directory", Key: "workingDirectory", Needs: CapFullSpec,
		Reads: "`process.cwd`, exec's cwd",
		Does:  "refuses a cwd under `/proc/*/fd` (CVE-2024-21626)",
	}
}

var fdDir = regexp.MustCompile(`^/proc/(self|thread-self|[0-9]+)(/task/[0-9]+)?/fd(/|$)`)

// WorkingDirProblem is how a refusal describes such a directory, on
// create and on exec alike.
const WorkingDirProblem = "working directory inside a file descriptor table (CVE-2024-21626)"

// BadWorkingDir reports whether cwd reaches into a file descriptor table.
func BadWorkingDir(cwd string) bool {
	return fdDir.MatchString(policy.CleanHostPath(cwd))
}

func (WorkingDir) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	if c.Process == nil || !BadWorkingDir(c.Process.Cwd) {
		return nil
	}
	return []Finding{{
		Control: "working-directory", Field: "process.cwd", Value: c.Process.Cwd,
		Problem: WorkingDirProblem,
		Rule:    "workingDirectory.mode", Source: s.WorkingDir.Mode.Source,
		Verdict: Refuse, Fix: "set workingDir to a path in the image",
		Final: "a working directory that reaches a host file descriptor is an escape, not a setting",
	}}
}
