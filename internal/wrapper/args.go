package wrapper

import "strings"

// invocation is a runc command line split where the wrapper needs it.
type invocation struct {
	args []string // everything after the program name, unchanged
	verb string
	// verbAt is the index of verb in args.
	verbAt int
}

// runc's global flags that take a value; the verb is the first word
// that is neither one of these (with its value) nor another flag.
var globalWithValue = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

func parseInvocation(args []string) invocation {
	inv := invocation{args: args, verbAt: -1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			inv.verb, inv.verbAt = a, i
			return inv
		}
		if globalWithValue[a] {
			i++ // skip its value
		}
	}
	return inv
}

// global returns the value of a global flag (--log, --root), if given.
func (inv invocation) global(name string) string {
	end := inv.verbAt
	if end < 0 {
		end = len(inv.args)
	}
	return flagValue(inv.args[:end], name)
}

// local returns the value of one of the verb's flags.
func (inv invocation) local(names ...string) string {
	if inv.verbAt < 0 {
		return ""
	}
	for _, n := range names {
		if v := flagValue(inv.args[inv.verbAt+1:], n); v != "" {
			return v
		}
	}
	return ""
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
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
