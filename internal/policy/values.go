package policy

import (
	"fmt"
	"path"
	"strings"
)

// enum is implemented by value types with a closed set of values; the
// strict decoder checks them and lists the allowed ones in its error.
type enum interface{ allowed() []string }

// checked is implemented by value types with a syntax of their own.
type checked interface{ check(string) error }

// Mode says what a control does with what it finds.
type Mode string

const (
	Enforce Mode = "enforce" // refuse or rewrite
	Audit   Mode = "audit"   // allow, change nothing, log what enforce would do
	Off     Mode = "off"     // do not look
)

func (Mode) allowed() []string { return []string{"enforce", "audit", "off"} }

// NamespaceType is a Linux namespace a container may share with the host.
type NamespaceType string

func (NamespaceType) allowed() []string { return []string{"pid", "ipc", "network", "uts"} }

// MountAction is what enforce does with a sensitive host mount.
type MountAction string

const (
	MountRefuse   MountAction = "refuse"
	MountDrop     MountAction = "drop"
	MountReadOnly MountAction = "readOnly"
)

func (MountAction) allowed() []string { return []string{"refuse", "drop", "readOnly"} }

// DeviceAction is what enforce does with a device outside the allowlist.
type DeviceAction string

const (
	DeviceRefuse DeviceAction = "refuse"
	DeviceRemove DeviceAction = "remove"
)

func (DeviceAction) allowed() []string { return []string{"refuse", "remove"} }

// SeccompAction is what enforce does with a container without seccomp.
type SeccompAction string

const (
	SeccompInject SeccompAction = "inject"
	SeccompRefuse SeccompAction = "refuse"
)

func (SeccompAction) allowed() []string { return []string{"inject", "refuse"} }

// Permission allows or refuses one kind of request.
type Permission string

const (
	Allow  Permission = "allow"
	Refuse Permission = "refuse"
)

func (Permission) allowed() []string { return []string{"allow", "refuse"} }

// HostPath is an absolute path on the node.
type HostPath string

func (HostPath) check(s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("must be an absolute path, got %q", s)
	}
	return nil
}

// Glob matches with `*` (any run of characters, `/` included) and `?`
// (one character). Everything else is literal.
type Glob string

func (Glob) check(s string) error {
	if s == "" {
		return fmt.Errorf("empty pattern")
	}
	return nil
}

// Match reports whether s matches the glob.
func (g Glob) Match(s string) bool {
	return globMatch(string(g), s)
}

// globMatch is iterative with one backtrack point, so it is linear in
// practice and cannot blow up on hostile patterns.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// CleanHostPath normalises a host path the way the kernel will resolve it
// lexically: `..`, `.`, duplicate and trailing slashes, and the /var/run
// compatibility link to /run.
func CleanHostPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p) // no allocation when p is already clean
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		p = "/run" + strings.TrimPrefix(p, "/var/run")
	}
	return p
}
