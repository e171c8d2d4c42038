package wrapper

// Which real binary the wrapper stands for.
//
// containerd runs one binary per runtime handler: the runc shim execs the
// runtime's BinaryName, with that path as argv[0]. So the wrapper learns
// its handler from the name it was started under, which containerd's
// configuration fixes per runtime and no pod can change:
//
//	.../nri-guard-runc           the default runtime: runs runc: from runtime.yaml
//	.../nri-guard-runc-crun      runtime handler "crun": runs handlers.crun
//	.../nri-guard-runc-nvidia    runtime handler "nvidia": runs handlers.nvidia
//
// runtime.yaml maps each such handler to its real binary:
//
//	runc: /usr/bin/runc
//	handlers:
//	  crun: /usr/bin/crun
//	  nvidia: /usr/local/nvidia/toolkit/nvidia-container-runtime
//
// The per-handler wrappers are the same binary under another name (a
// copy, or a symlink: argv[0] keeps the link's name). A wrapper started
// for a handler runtime.yaml does not map refuses create, run, restore
// and exec, naming the handler; it never picks a binary by guess. Verbs
// that start nothing (kill, delete, state, ...) still go to the one real
// binary it knows, runc:, so pods can be stopped. The handler is also the
// pod's runtime handler in the view the controls judge (runtime-handlers).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// WrapperName is the wrapper's file name for the default runtime; the
// wrapper of runtime handler H is WrapperName-H.
const WrapperName = "nri-guard-runc"

// DefaultHandler is the handler the default wrapper serves: the runc
// runtime of containerd's configuration.
const DefaultHandler = "runc"

// invokedAs is the name containerd started the wrapper under; a variable
// for the tests.
var invokedAs = func() string { return os.Args[0] }

// WrapperFor is the file name of the wrapper of handler h.
func WrapperFor(h string) string {
	if h == DefaultHandler {
		return WrapperName
	}
	return WrapperName + "-" + h
}

// selectHandler sets the handler this run serves and its real binary.
func (cfg *Config) selectHandler(argv0 string) error {
	h, ok := strings.CutPrefix(filepath.Base(argv0), WrapperName+"-")
	if !ok || h == "" {
		cfg.Handler = DefaultHandler
		return nil
	}
	real, ok := cfg.Handlers[h]
	if !ok {
		return fmt.Errorf("this wrapper was started as %s, the wrapper of runtime handler %q, and handlers: names no real binary for %q "+
			"(add `%s: /path/to/its/real/binary` under handlers:)", argv0, h, h, h)
	}
	cfg.Handler, cfg.Runc = h, real
	return nil
}

// Handlers maps runtime handler names to their real binaries.
type Handlers map[string]string

// handlerError is a bad entry of handlers:, at its line.
type handlerError struct {
	line int
	msg  string
}

func (e *handlerError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// UnmarshalYAML checks every entry, so a mistake is reported at its line
// instead of surfacing as a refused container.
func (h *Handlers) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &handlerError{n.Line, "handlers: want a map of runtime handler to its real binary, e.g. crun: /usr/bin/crun"}
	}
	out := Handlers{}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := checkHandlerName(k.Value); err != nil {
			return &handlerError{k.Line, "handlers: " + err.Error()}
		}
		if line, dup := seen[k.Value]; dup {
			return &handlerError{k.Line, fmt.Sprintf("handlers.%s: already named at line %d", k.Value, line)}
		}
		seen[k.Value] = k.Line
		switch {
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			return &handlerError{v.Line, fmt.Sprintf("handlers.%s: want the absolute path of the handler's real binary", k.Value)}
		case !filepath.IsAbs(v.Value):
			return &handlerError{v.Line, fmt.Sprintf("handlers.%s: want the absolute path of the handler's real binary, got %q", k.Value, v.Value)}
		case strings.HasPrefix(filepath.Base(v.Value), WrapperName):
			// The wrapper would run itself, forever.
			return &handlerError{v.Line, fmt.Sprintf("handlers.%s: %s is a runtime wrapper; name the real binary it stands for", k.Value, v.Value)}
		}
		out[k.Value] = v.Value
	}
	*h = out
	return nil
}

// checkHandlerName accepts what can follow WrapperName- in a file name
// and names a containerd runtime.
func checkHandlerName(h string) error {
	if h == "" || len(h) > 63 {
		return fmt.Errorf("runtime handler %q: want 1 to 63 characters", h)
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("runtime handler %q: want the name of a runtime in containerd's configuration (runtimes.NAME), not a path", h)
		}
	}
	return nil
}

// configError puts the file and line in front of a decoding error.
func configError(path string, err error) error {
	var he *handlerError
	if errors.As(err, &he) {
		return fmt.Errorf("%s:%d: %s", path, he.line, he.msg)
	}
	return fmt.Errorf("%s: %w", path, err)
}
