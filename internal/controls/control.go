// Package controls holds one file per guard. Each control reads the
// normalized container view and its own policy settings and returns
// findings; a finding may carry a rewrite. Controls never build an NRI
// message or touch a file: the engine and the appliers do that.
package controls

import (
	"fmt"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Control is one guard.
type Control interface {
	Meta() Meta
	Check(c *view.Container, s *policy.Controls, env *Env) []Finding
}

// Meta describes a control for logs, `policy show` and the README.
type Meta struct {
	// ID names the control in refusals and logs ("host-mounts").
	ID string
	// Key is the control's section in the policy ("hostMounts").
	Key string
	// Reads and Does are the control's row in the README's control table
	// and `policy show --controls` (table.go): the container fields it
	// looks at, and what enforce mode does with them.
	Reads, Does string
	// Needs names a runtime capability the control cannot work without
	// ("seccomp-adjustment"); empty when any runtime will do.
	Needs string
}

// Profiles are the seccomp profiles a policy names, loaded, by path; ""
// is the built-in default profile.
type Profiles map[policy.HostPath]*specs.LinuxSeccomp

// Env is what controls need from outside the view and the policy.
type Env struct {
	// Seccomp holds the loaded profiles by policy path; "" is the built-in
	// default profile.
	Seccomp Profiles
	// Caller is who asks: what it can see and what it can change.
	Caller
}

// Verdict is what enforce mode does about a finding.
type Verdict int

const (
	Refuse Verdict = iota
	Rewrite
)

func (v Verdict) String() string {
	if v == Rewrite {
		return "rewrite"
	}
	return "refuse"
}

// Finding is one policy violation in one field of the container.
type Finding struct {
	Control string
	Field   string
	Value   string
	// Problem says what is wrong with the value, in a few words.
	Problem string
	// Rule is the policy setting that decides, e.g. "hostMounts.paths".
	Rule   string
	Source policy.Source
	// By names the NRI plugin that introduced the value, if one did.
	By      string
	Verdict Verdict
	Rewrite *view.Rewrite
	// Fix says how to allow it.
	Fix string
	// Grant is the narrowest exception setting that allows the finding,
	// for report --propose; nil when only the control's mode can, unless
	// Final says why no exception should.
	Grant *policy.Grant
	// Final says why no exception should allow the finding (a denied
	// image, an escape shape): the workload must change.
	Final string
	// Mode is the mode the control ran in; the engine fills it.
	Mode policy.Mode
}

// Text is the finding as one clause of a refusal or a log line.
func (f *Finding) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s = %s: %s", f.Control, f.Field, f.Value, f.Problem)
	if f.By != "" {
		fmt.Fprintf(&b, " (set by NRI plugin %s)", f.By)
	}
	fmt.Fprintf(&b, ", by rule %s (%s)", f.Rule, f.Source)
	if f.Fix != "" {
		b.WriteString("; " + f.Fix)
	}
	return b.String()
}

// exceptionFix is the common advice: an exception for this pod that
// changes one setting.
func exceptionFix(setting string) string {
	return "to allow it, add an exception for this pod that sets " + setting
}
