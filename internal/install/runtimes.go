package install

// The runtimes K3s's containerd runs pods with.
//
// K3s registers a containerd runtime (and a RuntimeClass of the same name)
// for every runtime binary it finds on the node: crun, nvidia's runc
// wrappers, the WebAssembly shims. A pod that names one of them never
// reaches the runc wrapper, so the installer wraps every runc-compatible
// one (runtime_type io.containerd.runc.v2: the runc shim runs its
// BinaryName exactly as it runs runc) with a wrapper of its own,
// bin/nri-guard-runc-NAME, which runs the real binary that runtime.yaml
// names for it (internal/wrapper, handlers.go). Runtimes of another type
// (the wasm shims, kata, gVisor) have no OCI runtime binary to wrap: they
// stay as they are, and their pods are refused until the admin lists
// them as isolated in the policy.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/wrapper"
)

// runcShim is the runtime type whose BinaryName the installer can wrap.
const runcShim = "io.containerd.runc.v2"

// Runtime is one containerd runtime from K3s's generated config.toml.
type Runtime struct {
	Name, Type, BinaryName string
	Line                   int // of its table, for messages
}

// Wrappable: the runc shim runs its binary, and it is not runc itself
// (the default route wraps runc).
func (r Runtime) Wrappable() bool {
	return r.Type == runcShim && r.Name != wrapper.DefaultHandler
}

// runtimeTables are the CRI runtime tables of containerd's config
// version 3 (containerd 2.x) and version 2.
var runtimeTables = [][]string{
	{"plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes"},
	{"plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes"},
}

var (
	tableLine = regexp.MustCompile(`^\s*\[([^\[\]]+)\]\s*(#.*)?$`)
	keyLine   = regexp.MustCompile(`^\s*([A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$`)
)

// readRuntimes reads the runtime tables and the default runtime's name
// from a config.toml in the shape K3s renders (one table header or key
// per line). It is not a TOML parser: what it does not understand inside
// a runtime table is an error, never a runtime silently left out.
func readRuntimes(name string, data []byte) (runtimes []Runtime, defaultName string, err error) {
	byName := map[string]*Runtime{}
	var cur *Runtime // the runtime whose table (or options table) is open
	inCRI := false   // the containerd table of the CRI runtime plugin
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if m := tableLine.FindStringSubmatch(line); m != nil {
			path, perr := splitKey(m[1])
			if perr != nil {
				return nil, "", fmt.Errorf("%s:%d: %v", name, n, perr)
			}
			cur, inCRI = nil, false
			for _, prefix := range runtimeTables {
				switch {
				case slices.Equal(path, prefix[:len(prefix)-1]):
					inCRI = true
				case len(path) >= len(prefix)+1 && slices.Equal(path[:len(prefix)], prefix) &&
					(len(path) == len(prefix)+1 || len(path) == len(prefix)+2 && path[len(prefix)+1] == "options"):
					rname := path[len(prefix)]
					if byName[rname] == nil {
						byName[rname] = &Runtime{Name: rname, Line: n}
					}
					cur = byName[rname]
				}
			}
			continue
		}
		if cur == nil && !inCRI {
			continue
		}
		m := keyLine.FindStringSubmatch(line)
		if m == nil {
			if cur != nil {
				return nil, "", fmt.Errorf("%s:%d: cannot read this line of runtime %q's table (the installer reads the one key per line K3s renders)", name, n, cur.Name)
			}
			continue
		}
		key := m[1]
		var target *string
		switch {
		case cur != nil && key == "runtime_type":
			target = &cur.Type
		case cur != nil && key == "BinaryName":
			target = &cur.BinaryName
		case inCRI && key == "default_runtime_name":
			target = &defaultName
		default:
			continue
		}
		v, ok := tomlString(m[2])
		if !ok {
			return nil, "", fmt.Errorf("%s:%d: %s: want a quoted string, got %s", name, n, key, m[2])
		}
		*target = v
	}
	if err := sc.Err(); err != nil {
		return nil, "", err
	}
	// In the order their tables first appear.
	for _, r := range byName {
		runtimes = append(runtimes, *r)
	}
	slices.SortFunc(runtimes, func(a, b Runtime) int { return a.Line - b.Line })
	return runtimes, defaultName, nil
}

// splitKey splits a dotted TOML key into its parts: bare, 'literal' or
// "basic" (without escapes, which K3s never renders in these names).
func splitKey(s string) ([]string, error) {
	var parts []string
	s = strings.TrimSpace(s)
	for s != "" {
		var part string
		switch s[0] {
		case '\'', '"':
			end := strings.IndexByte(s[1:], s[0])
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in table name [%s]", s)
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			end := strings.IndexByte(s, '.')
			if end < 0 {
				end = len(s)
			}
			part, s = strings.TrimSpace(s[:end]), s[end:]
		}
		parts = append(parts, part)
		s = strings.TrimSpace(s)
		if s == "" {
			break
		}
		if s[0] != '.' {
			return nil, fmt.Errorf("cannot read table name near %q", s)
		}
		s = strings.TrimSpace(s[1:])
	}
	return parts, nil
}

// tomlString reads a quoted string value, with a trailing comment.
func tomlString(v string) (string, bool) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return "", false
	}
	end := strings.IndexByte(v[1:], v[0])
	if end < 0 || strings.Contains(v[1:end+1], `\`) {
		return "", false
	}
	rest := strings.TrimSpace(v[end+2:])
	if rest != "" && !strings.HasPrefix(rest, "#") {
		return "", false
	}
	return v[1 : end+1], true
}

// runtimesOf reads the runtimes of K3s's generated containerd config.
func runtimesOf(root string) ([]Runtime, string, error) {
	path := onNode(root, renderedConfig)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	runtimes, def, err := readRuntimes(path, data)
	if def == "" {
		def = wrapper.DefaultHandler // containerd's own default
	}
	return runtimes, def, err
}

var handlerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Wrapped are the runtimes the installer gives a wrapper of their own,
// each with the real binary that wrapper runs; runc is the default
// route's, with the real runc the installer was given.
func (n Node) Wrapped() ([]Runtime, error) {
	var out []Runtime
	for _, r := range n.Runtimes {
		if !r.Wrappable() {
			continue
		}
		switch {
		case !handlerName.MatchString(r.Name):
			return nil, fmt.Errorf("%s:%d: runtime %q: the installer names its wrapper bin/%s, so the name must be letters, digits, '.', '_' and '-'", renderedConfig, r.Line, r.Name, wrapper.WrapperFor(r.Name))
		case r.BinaryName == "":
			return nil, fmt.Errorf("%s:%d: runtime %q has no BinaryName, so its shim runs whatever runc is on containerd's PATH; name its binary in your containerd template so the wrapper knows what it stands for", renderedConfig, r.Line, r.Name)
		case !filepath.IsAbs(r.BinaryName):
			return nil, fmt.Errorf("%s:%d: runtime %q: BinaryName %q is not an absolute path; the wrapper must know exactly which binary it stands for", renderedConfig, r.Line, r.Name, r.BinaryName)
		case strings.HasPrefix(filepath.Base(r.BinaryName), wrapper.WrapperName):
			return nil, fmt.Errorf("%s:%d: runtime %q already runs a runtime wrapper (%s): remove that from your containerd template; the installer wraps every runc-compatible runtime itself", renderedConfig, r.Line, r.Name, r.BinaryName)
		}
		out = append(out, r)
	}
	return out, nil
}

// Unwrapped are the runtimes whose pods no wrapper sees: they are refused
// unless the policy lists them as isolated.
func (n Node) Unwrapped() []Runtime {
	var out []Runtime
	for _, r := range n.Runtimes {
		if r.Type != runcShim {
			out = append(out, r)
		}
	}
	return out
}

// Guarded is what the installer's policy lists as runtimeHandlers.guarded:
// runc, every wrapped runtime, and "" (a pod without a RuntimeClass) when
// the default runtime is one of them.
func (n Node) Guarded(wrapped []Runtime) []string {
	out := []string{wrapper.DefaultHandler}
	for _, r := range wrapped {
		out = append(out, r.Name)
	}
	if slices.Contains(out, n.DefaultRuntime) {
		out = append([]string{""}, out...)
	}
	return out
}

// wrapperPath is the node path of handler h's wrapper.
func wrapperPath(h string) string {
	return filepath.Join(filepath.Dir(wrapperBin), wrapper.WrapperFor(h))
}

// describeRuntimes says which of K3s's runtimes get a wrapper and which
// pods will be refused.
func describeRuntimes(w io.Writer, n Node) {
	for _, r := range n.Runtimes {
		switch {
		case r.Name == wrapper.DefaultHandler:
		case r.Wrappable():
			fmt.Fprintf(w, "  - runtime %s (%s): wrapped too, by %s, which runs %s\n", r.Name, r.Type, wrapperPath(r.Name), r.BinaryName)
		default:
			fmt.Fprintf(w, "  - runtime %s (%s): not runc-compatible, left as it is; its pods are REFUSED unless you list %s in runtimeHandlers.isolated\n", r.Name, r.Type, r.Name)
		}
	}
}
