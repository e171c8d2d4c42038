package profiles

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The values runtime-spec defines. A value outside these is refused here
// rather than left for the runtime, which may ignore it.
var (
	knownActions = []specs.LinuxSeccompAction{
		specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActErrno,
		specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
	}
	knownArches = []specs.Arch{
		specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
		specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
		specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
		specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64,
		specs.ArchLOONGARCH64, specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
	}
	knownOps = []specs.LinuxSeccompOperator{
		specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
	}
	// The spec's config-linux also lists TSYNC, which runtime-spec's Go
	// package has no constant for.
	knownFlags = []specs.LinuxSeccompFlag{
		"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog,
		specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv,
	}
)

// maxErrno is the largest value the C library reads as an errno: a larger
// return is taken for success.
const maxErrno = 4095

// checker collects every problem with a decoded profile, so one run names
// them all.
type checker struct {
	prof  *specs.LinuxSeccomp
	probs []problem
	rules map[string]int // name and arguments → first rule naming them
}

func validate(prof *specs.LinuxSeccomp) []problem {
	c := &checker{prof: prof, rules: map[string]int{}}
	c.header()
	for i := range prof.Syscalls {
		c.rule(i)
	}
	return c.probs
}

func (c *checker) add(path, format string, args ...any) {
	c.probs = append(c.probs, problem{path: path, off: -1, msg: fmt.Sprintf(format, args...)})
}

func (c *checker) header() {
	p := c.prof
	switch {
	case p.DefaultAction == "":
		c.add("defaultAction", "missing: a profile needs the action for calls no rule names")
	case p.DefaultAction == specs.ActNotify:
		c.add("defaultAction", "%s cannot be the default action: the runtime itself would block on its agent", p.DefaultAction)
	default:
		c.action("defaultAction", p.DefaultAction)
	}
	c.errno("defaultErrnoRet", p.DefaultAction, p.DefaultErrnoRet)
	checkList(c, "architectures", p.Architectures, knownArches, "architecture")
	checkList(c, "flags", p.Flags, knownFlags, "flag")
	if len(p.Syscalls) == 0 {
		c.add("syscalls", "no rules: an empty profile either allows or refuses everything")
	}
}

// checkList refuses unknown and repeated entries of a list of names.
func checkList[T ~string](c *checker, field string, got, known []T, what string) {
	for i, v := range got {
		path := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !slices.Contains(known, v):
			c.add(path, "unknown %s %q", what, v)
		case slices.Index(got, v) < i:
			c.add(path, "%q listed twice", v)
		}
	}
}

func (c *checker) action(path string, a specs.LinuxSeccompAction) bool {
	switch {
	case a == "":
		c.add(path, "missing")
	case !slices.Contains(knownActions, a):
		c.add(path, "unknown action %q", a)
	case a == specs.ActNotify && c.prof.ListenerPath == "":
		c.add(path, "%s needs listenerPath, the agent that answers", a)
	default:
		return true
	}
	return false
}

// errno checks an errno return: meaningful only for SCMP_ACT_ERRNO (and
// as the tracer's message for SCMP_ACT_TRACE); with any other action it
// has no effect, so a value there is a mistake.
func (c *checker) errno(path string, a specs.LinuxSeccompAction, v *uint) {
	switch {
	case v == nil:
	case a != specs.ActErrno && a != specs.ActTrace:
		c.add(path, "only used with %s or %s, not %s", specs.ActErrno, specs.ActTrace, a)
	case *v > maxErrno:
		c.add(path, "%d is not an errno (0 to %d)", *v, maxErrno)
	}
}

func (c *checker) rule(i int) {
	r := c.prof.Syscalls[i]
	base := fmt.Sprintf("syscalls[%d]", i)
	if len(r.Names) == 0 {
		c.add(base+".names", "empty: a rule names at least one system call")
	}
	if c.action(base+".action", r.Action) && r.Action == specs.ActNotify && slices.Contains(r.Names, "write") {
		// runc writes the notification descriptor to its parent with write.
		c.add(base+".action", "%s cannot apply to write: the runtime needs write to hand over the listener", r.Action)
	}
	c.errno(base+".errnoRet", r.Action, r.ErrnoRet)
	for j, a := range r.Args {
		c.arg(fmt.Sprintf("%s.args[%d]", base, j), a)
	}
	args := argsKey(r.Args)
	for j, name := range r.Names {
		c.name(i, fmt.Sprintf("%s.names[%d]", base, j), name, args)
	}
}

func (c *checker) name(rule int, path, name, args string) {
	if !IsKnownSyscall(name) {
		msg := fmt.Sprintf("unknown syscall %q", name)
		if s := suggestSyscall(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.add(path, "%s", msg)
		return
	}
	key := name + "\x00" + args
	if first, dup := c.rules[key]; dup {
		if first == rule {
			c.add(path, "%q named twice in this rule", name)
		} else {
			c.add(path, "%q with the same arguments is already in syscalls[%d]", name, first)
		}
		return
	}
	c.rules[key] = rule
}

func (c *checker) arg(path string, a specs.LinuxSeccompArg) {
	if a.Index > 5 {
		c.add(path+".index", "%d is out of range: system calls have arguments 0 to 5", a.Index)
	}
	switch {
	case a.Op == "":
		c.add(path+".op", "missing")
	case !slices.Contains(knownOps, a.Op):
		c.add(path+".op", "unknown operator %q", a.Op)
	case a.Op != specs.OpMaskedEqual && a.ValueTwo != 0:
		c.add(path+".valueTwo", "only used with %s (value is the mask, valueTwo the result)", specs.OpMaskedEqual)
	}
}

// argsKey is a rule's conditions in a canonical order: conditions are
// ANDed, so their order does not make two rules different.
func argsKey(args []specs.LinuxSeccompArg) string {
	sorted := slices.Clone(args)
	slices.SortFunc(sorted, func(a, b specs.LinuxSeccompArg) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), strings.Compare(string(a.Op), string(b.Op)),
			cmp.Compare(a.Value, b.Value), cmp.Compare(a.ValueTwo, b.ValueTwo))
	})
	var b strings.Builder
	for _, a := range sorted {
		fmt.Fprintf(&b, "%d %s %d %d;", a.Index, a.Op, a.Value, a.ValueTwo)
	}
	return b.String()
}
