package wrapper

import (
	"fmt"
	"slices"
	"strings"
)

// invocation is a runc command line split where the wrapper needs it.
type invocation struct {
	args []string // everything after the program name, unchanged
	verb string
	// verbAt is the index of verb in args.
	verbAt int
	// unknownGlobal is the first flag before the verb that runc's global
	// flags do not include, if any (see doubt).
	unknownGlobal string
}

// runc's global flags, by name, and whether each takes a value; the verb
// is the first word that is neither a flag nor a flag's value.
var globalFlags = map[string]bool{
	"root": true, "log": true, "log-format": true, "criu": true, "rootless": true,
	"debug": false, "systemd-cgroup": false, "help": false, "h": false, "version": false, "v": false,
}

// flagName splits a flag argument into its name and value. runc reads
// its flags with Go's flag package, for which -root and --root are the
// same flag.
func flagName(arg string) (name, value string, hasValue bool) {
	return strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
}

func parseInvocation(args []string) invocation {
	inv := invocation{args: args, verbAt: -1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			inv.verb, inv.verbAt = a, i
			return inv
		}
		name, _, hasValue := flagName(a)
		takesValue, known := globalFlags[name]
		if !known && inv.unknownGlobal == "" {
			inv.unknownGlobal = a
		}
		if takesValue && !hasValue {
			i++ // skip its value
		}
	}
	return inv
}

// globals is what comes before the verb.
func (inv invocation) globals() []string {
	if inv.verbAt < 0 {
		return inv.args
	}
	return inv.args[:inv.verbAt]
}

// locals is what comes after the verb.
func (inv invocation) locals() []string {
	if inv.verbAt < 0 {
		return nil
	}
	return inv.args[inv.verbAt+1:]
}

// global returns the value of a global flag (log, root), if given.
func (inv invocation) global(name string) string {
	v, _ := flagValue(inv.globals(), name)
	return v
}

// local returns the value of one of the verb's flags, given by any of
// its names.
func (inv invocation) local(names ...string) string {
	v, _ := flagValue(inv.locals(), names...)
	return v
}

// flagValue returns the last value given for the flag, as Go's flag
// package keeps the last, and how many times it was given.
func flagValue(args []string, names ...string) (string, int) {
	var value string
	var count int
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			break
		}
		if !strings.HasPrefix(args[i], "-") {
			continue
		}
		name, v, hasValue := flagName(args[i])
		if !slices.Contains(names, name) {
			continue
		}
		count++
		if !hasValue && i+1 < len(args) {
			i++
			v = args[i]
		}
		value = v
	}
	return value, count
}

// doubt says why runc might read this command line otherwise than the
// wrapper does, or "". containerd writes each flag once, in its long
// form, and only the global flags runc knows; anything else is refused
// rather than judged on a guess.
func (inv invocation) doubt() string {
	if inv.unknownGlobal != "" {
		return fmt.Sprintf("unknown global flag %q", inv.unknownGlobal)
	}
	if _, n := flagValue(inv.globals(), "root"); n > 1 {
		return "the global flag --root is given more than once"
	}
	if _, n := flagValue(inv.locals(), "bundle", "b"); n > 1 {
		return "the bundle is given more than once"
	}
	return ""
}

// containerID is the verb's last argument: runc takes the ID last.
func (inv invocation) containerID() string {
	if inv.verbAt < 0 || inv.verbAt == len(inv.args)-1 {
		return ""
	}
	return inv.args[len(inv.args)-1]
}
