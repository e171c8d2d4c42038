package wrapper

import (
	"fmt"
	"regexp"
	"strings"
)

// execFlags is a `runc exec` command line, read the way runc 1.5 reads
// it (urfave/cli on Go's flag package: `-name` and `--name`, a value
// after `=` or as the next word, flags up to the container ID).
type execFlags struct {
	// values holds every flag with a value, by its long name, in order.
	values map[string][]string
	// bools holds the boolean flags given, by long name: "true" unless
	// written `--name=false`.
	bools map[string]string
	id    string
}

// runc exec's flags (runc 1.5 `exec --help`), short names mapped to
// long ones. Any other flag is refused: a flag the wrapper does not know
// could change the process in a way it does not judge.
var (
	execValueFlags = map[string]string{
		"console-socket": "console-socket", "pidfd-socket": "pidfd-socket", "cwd": "cwd",
		"env": "env", "e": "env", "user": "user", "u": "user", "additional-gids": "additional-gids", "g": "additional-gids",
		"process": "process", "p": "process", "pid-file": "pid-file", "process-label": "process-label",
		"apparmor": "apparmor", "cap": "cap", "c": "cap", "preserve-fds": "preserve-fds", "cgroup": "cgroup",
	}
	execBoolFlags = map[string]string{
		"tty": "tty", "t": "tty", "detach": "detach", "d": "detach", "no-new-privs": "no-new-privs",
		"ignore-paused": "ignore-paused", "no-subreaper": "no-subreaper",
	}
)

// containerIDPattern is what runc accepts as a container ID; the wrapper
// checks it too before it uses the ID as a path under runc's root.
var containerIDPattern = regexp.MustCompile(`^[\w+\-.]+$`)

// parseExecFlags reads the words after `exec`.
func parseExecFlags(args []string) (execFlags, error) {
	f := execFlags{values: map[string][]string{}, bools: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			if i < len(args) {
				f.id = args[i]
			}
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			f.id = a
			break
		}
		name, value, hasValue := flagName(a)
		if long, ok := execBoolFlags[name]; ok {
			if !hasValue {
				value = "true"
			}
			if value != "true" && value != "false" {
				return f, fmt.Errorf("flag %s: want true or false, got %q", a, value)
			}
			f.bools[long] = value
			continue
		}
		long, ok := execValueFlags[name]
		if !ok {
			return f, fmt.Errorf("unknown flag %s (the wrapper knows runc 1.5's exec flags only)", a)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return f, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			value = args[i]
		}
		f.values[long] = append(f.values[long], value)
	}
	if f.id == "" || f.id == "." || f.id == ".." || !containerIDPattern.MatchString(f.id) {
		return f, fmt.Errorf("no valid container ID (got %q)", f.id)
	}
	return f, nil
}

// last returns the last value of a flag, as runc's single-value flags
// keep it, or "".
func (f execFlags) last(name string) string {
	v := f.values[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}
