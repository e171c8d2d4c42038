package wrapper

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// runcGlobals parses a command line's global flags as runc does (Go's
// flag package under urfave/cli): the reference the wrapper's own
// reading must agree with.
func runcGlobals(args []string) (verb, root string, err error) {
	fs := flag.NewFlagSet("runc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for name, takesValue := range globalFlags {
		if takesValue {
			fs.String(name, "", "")
		} else {
			fs.Bool(name, false, "")
		}
	}
	if err := fs.Parse(args); err != nil {
		return "", "", err
	}
	return fs.Arg(0), fs.Lookup("root").Value.String(), nil
}

// FuzzInvocation: no command line panics the wrapper's reading of it,
// and for every line it does not refuse as doubtful (doubt), it finds
// the verb and the --root runc finds: what is judged is what runc runs.
// Seeds are in testdata/fuzz/FuzzInvocation (NUL-separated arguments).
func FuzzInvocation(f *testing.F) {
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		inv := parseInvocation(args)
		inv.globals()
		inv.locals()
		inv.containerID()
		inv.local("bundle", "b")
		if inv.doubt() != "" {
			return
		}
		verb, root, err := runcGlobals(args)
		if err != nil {
			return // runc refuses the line itself
		}
		if verb != inv.verb {
			t.Fatalf("%q: the wrapper reads the verb %q, runc %q", args, inv.verb, verb)
		}
		if got := inv.global("root"); got != root {
			t.Fatalf("%q: the wrapper reads --root %q, runc %q", args, got, root)
		}
	})
}
