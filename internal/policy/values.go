package policy

import (
	"fmt"
	"path"
	"strconv"
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

// AddedCapAction is what enforce does with a capability a workload added.
type AddedCapAction string

const (
	AddedDrop   AddedCapAction = "drop"
	AddedRefuse AddedCapAction = "refuse"
)

func (AddedCapAction) allowed() []string { return []string{"drop", "refuse"} }

// ForceAction is what enforce does when a setting is not as required:
// set it, or refuse the container.
type ForceAction string

const (
	Force       ForceAction = "force"
	ForceRefuse ForceAction = "refuse"
)

func (ForceAction) allowed() []string { return []string{"force", "refuse"} }

// Capability is a Linux capability name as the OCI spec writes it.
type Capability string

func (Capability) allowed() []string { return AllCapabilities }

// AllCapabilities lists the Linux capabilities (capabilities(7), up to
// CAP_CHECKPOINT_RESTORE, Linux 5.9).
var AllCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// UserNSWant is what the userNamespaces control asks of a pod.
type UserNSWant string

const (
	// UserNSRequire refuses pods that run in the node's user namespace.
	UserNSRequire UserNSWant = "require"
	// UserNSEnable gives such a pod a user namespace of its own, with a
	// range of host ids from the node's pool (runtime wrapper only).
	UserNSEnable UserNSWant = "enable"
)

func (UserNSWant) allowed() []string { return []string{"require", "enable"} }

// HostID is a user or group id of the node.
type HostID uint32

func (HostID) check(s string) error {
	if _, err := strconv.ParseUint(s, 10, 32); err != nil {
		return fmt.Errorf("want a host id, a whole number from 0 to 4294967295, got %q", s)
	}
	return nil
}

// RootAction is what enforce does with a process that runs as uid 0 in
// the node's user namespace.
type RootAction string

const (
	RootRefuse RootAction = "refuse"
	// RootRemap runs the container in a user namespace of its own, where
	// uid 0 is an unprivileged node uid from the pool.
	RootRemap RootAction = "remap"
)

func (RootAction) allowed() []string { return []string{"refuse", "remap"} }

// RuntimeHandler names a containerd runtime as CRI and NRI name it (the
// pod's RuntimeClass handler); "" is containerd's default runtime.
type RuntimeHandler string

func (RuntimeHandler) check(s string) error {
	if len(s) > 63 {
		return fmt.Errorf("runtime handler %q is longer than 63 characters", s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("runtime handler %q: want the name of a runtime in containerd's configuration (runtimes.NAME, e.g. crun), not a path or a command", s)
		}
	}
	return nil
}

// String shows the default runtime's empty name as "".
func (h RuntimeHandler) String() string {
	if h == "" {
		return `""`
	}
	return string(h)
}

// HostPath is an absolute path on the node.
type HostPath string

func (HostPath) check(s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("must be an absolute path, got %q", s)
	}
	return nil
}

// ContainerDir is an absolute, clean directory inside a container that
// nri-guard may mount over: not the root, and not /proc, /sys or /dev,
// whose contents are the kernel's and the runtime's.
type ContainerDir string

func (ContainerDir) check(s string) error {
	switch {
	case !strings.HasPrefix(s, "/"):
		return fmt.Errorf("must be an absolute path, got %q", s)
	case path.Clean(s) != s || strings.ContainsRune(s, 0):
		return fmt.Errorf("must be a clean path (no '..', '.', doubled or trailing '/'), got %q", s)
	case s == "/":
		return fmt.Errorf("cannot be the root itself: the root is what is kept read-only")
	}
	for _, kernel := range []string{"/proc", "/sys", "/dev"} {
		if s == kernel || strings.HasPrefix(s, kernel+"/") {
			return fmt.Errorf("cannot be %s or below it (the kernel's and the runtime's), got %q", kernel, s)
		}
	}
	return nil
}

// TmpfsSize is tmpfs's size= option: a byte count with an optional k, m
// or g suffix, or a percentage of the node's memory (1% to 100%).
type TmpfsSize string

func (TmpfsSize) check(s string) error {
	v, suffix, ok := TmpfsSize(s).parse()
	if !ok {
		return fmt.Errorf("must be a size like 64m, 1g or 10%%, got %q", s)
	}
	if suffix == "%" && v > 100 {
		return fmt.Errorf("a percentage must be at most 100%%, got %q", s)
	}
	return nil
}

// Bytes is the size in bytes; ok is false for a percentage (a share of
// the node's memory) and for a value check refuses.
func (t TmpfsSize) Bytes() (n int64, ok bool) {
	v, suffix, ok := t.parse()
	if !ok || suffix == "%" {
		return 0, false
	}
	return int64(v) << map[string]int{"": 0, "k": 10, "m": 20, "g": 30}[suffix], true
}

// parse splits the number from its suffix (k, m, g or %).
func (t TmpfsSize) parse() (v uint64, suffix string, ok bool) {
	digits := string(t)
	if n := len(digits); n > 0 && strings.ContainsAny(digits[n-1:], "kmg%") {
		digits, suffix = digits[:n-1], digits[n-1:]
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	return v, suffix, err == nil && v > 0 && len(digits) <= 15
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
