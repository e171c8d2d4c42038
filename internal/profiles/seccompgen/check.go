package seccompgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// tableArch maps a profile architecture to its name in the system call
// table (internal/profiles/syscalls.txt). The table records only these,
// so a default profile can cover only these.
var tableArch = map[string]string{
	"SCMP_ARCH_X86_64":  "x86_64",
	"SCMP_ARCH_X32":     "x32",
	"SCMP_ARCH_X86":     "x86",
	"SCMP_ARCH_AARCH64": "aarch64",
	"SCMP_ARCH_ARM":     "arm",
}

// classifier checks that each system call of the profile's architectures
// is classified exactly once, and that each entry says why.
type classifier struct {
	known  map[string][]string
	arches []string          // table names of the profile's architectures
	where  map[string]string // system call → the entry that classified it
	probs  []string
}

func (s *Source) check(known map[string][]string) []string {
	c := &classifier{known: known, where: map[string]string{}}
	c.header(s)
	for i, g := range s.Allow {
		c.entry(fmt.Sprintf("allow[%d] (%s)", i, g.Group), g.Names, g.Why)
		if g.Group == "" {
			c.fail("allow[%d]: the group has no name", i)
		}
	}
	for i, d := range s.Deny {
		c.entry(fmt.Sprintf("deny[%d]", i), d.Names, d.Why)
	}
	for i, r := range s.Rules {
		c.entry(fmt.Sprintf("rules[%d]", i), r.Names, r.Why)
		c.rule(fmt.Sprintf("rules[%d]", i), r)
	}
	c.unclassified()
	return c.probs
}

func (c *classifier) fail(format string, args ...any) {
	c.probs = append(c.probs, fmt.Sprintf(format, args...))
}

func (c *classifier) header(s *Source) {
	if s.DefaultAction == "" {
		c.fail("defaultAction: missing")
	}
	if len(s.Architectures) == 0 {
		c.fail("architectures: missing")
	}
	for _, a := range s.Architectures {
		t, ok := tableArch[a]
		if !ok {
			c.fail("architectures: %q is not in the system call table (%s)", a, strings.Join(slices.Sorted(maps.Keys(tableArch)), ", "))
			continue
		}
		c.arches = append(c.arches, t)
	}
}

func (c *classifier) entry(where string, names []string, why string) {
	if strings.TrimSpace(why) == "" {
		c.fail("%s: no reason (why) given", where)
	}
	if len(names) == 0 {
		c.fail("%s: no names", where)
	}
	for _, n := range names {
		c.classify(where, n)
	}
}

func (c *classifier) classify(where, name string) {
	arches, ok := c.known[name]
	switch {
	case !ok:
		c.fail("%s: unknown system call %q", where, name)
	case !c.onProfileArch(arches):
		c.fail("%s: %q exists on none of the profile's architectures", where, name)
	case c.where[name] != "":
		c.fail("%s: %q is already classified in %s", where, name, c.where[name])
	default:
		c.where[name] = where
	}
}

func (c *classifier) onProfileArch(arches []string) bool {
	for _, a := range arches {
		if slices.Contains(c.arches, a) {
			return true
		}
	}
	return false
}

func (c *classifier) rule(where string, r Rule) {
	if r.Action == "" {
		c.fail("%s: no action", where)
	}
	if r.AnyOf != nil && len(r.AnyOf.Values) == 0 {
		c.fail("%s: anyOf has no values", where)
	}
}

// unclassified reports the calls of the profile's architectures that no
// entry mentions: each must be allowed or denied on purpose.
func (c *classifier) unclassified() {
	var missing []string
	for name, arches := range c.known {
		if c.where[name] == "" && c.onProfileArch(arches) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		c.fail("not classified: %s (put each in allow, deny or rules)", strings.Join(missing, ", "))
	}
}
