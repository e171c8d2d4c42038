package view

import (
	"path"
	"slices"
	"strings"
)

// MountKind says what the kernel does with a mount, whatever the spec
// calls it: runc (and crun) treat any mount with a bind or rbind option
// as a bind, so the type alone ("none", "", even "proc") proves nothing.
type MountKind int

const (
	// KindBind shows a host path (a file or a directory) in the container.
	KindBind MountKind = iota
	// KindOverlay stacks host directories: its lowerdir, upperdir and
	// workdir options are host paths, as a bind's source is.
	KindOverlay
	// KindProc is a new procfs instance.
	KindProc
	// KindSysfs is a new sysfs instance.
	KindSysfs
	// KindDevpts is a devpts instance (pseudo-terminals).
	KindDevpts
	// KindTmpfs is fresh memory ("shm" is a tmpfs by another name).
	KindTmpfs
	// KindMqueue shows the POSIX message queues of the container's IPC
	// namespace.
	KindMqueue
	// KindCgroup is a cgroup or cgroup2 hierarchy.
	KindCgroup
	// KindOther is every filesystem nri-guard cannot tell the contents
	// of: one on a block device (ext4, xfs), on the network (nfs, cifs,
	// 9p), served by a process (fuse), or a type it does not know.
	KindOther
)

func (k MountKind) String() string {
	return [...]string{"bind", "overlay", "proc", "sysfs", "devpts", "tmpfs", "mqueue", "cgroup", "other"}[k]
}

// kindsByType maps the kernel filesystem types nri-guard knows to what
// they are. Types are matched exactly: the kernel does too.
var kindsByType = map[string]MountKind{
	"overlay": KindOverlay,
	"proc":    KindProc,
	"sysfs":   KindSysfs,
	"devpts":  KindDevpts,
	"tmpfs":   KindTmpfs,
	"mqueue":  KindMqueue,
	"cgroup":  KindCgroup,
	"cgroup2": KindCgroup,
}

// Kind classifies the mount by what the kernel will do with it. A bind
// option wins over any type, as it does in mount(2) (MS_BIND ignores the
// filesystem type).
func (m *Mount) Kind() MountKind {
	if m.IsBind() {
		return KindBind
	}
	if k, ok := kindsByType[m.Type]; ok {
		return k
	}
	return KindOther
}

// CleanDestination is the mount's container path without dot-dot, double
// or trailing slashes, so "/proc/" and "/sys/../proc" are both /proc.
func (m *Mount) CleanDestination() string {
	return path.Clean("/" + m.Destination)
}

// MountHostPath is one host path a mount makes visible.
type MountHostPath struct {
	// Path is the host path as the spec writes it.
	Path string `json:"path"`
	// Field names where it sits: "source" for a bind, the option name
	// (lowerdir, upperdir, workdir, ...) for an overlay.
	Field string `json:"field"`
	// ReadOnly: the container cannot write to the host path through this
	// mount (an overlay's lower layers never are written).
	ReadOnly bool `json:"readOnly"`
}

// overlayPathOptions are overlayfs' options whose values are host paths.
// lowerdir+ and datadir+ (Linux 6.8) add one layer each, unescaped.
var overlayPathOptions = map[string]bool{
	"lowerdir": true, "lowerdir+": true, "datadir+": true, "upperdir": true, "workdir": true,
}

// HostPaths lists every host path the mount reaches: a bind's source, an
// overlay's every layer. Other kinds reach none.
func (m *Mount) HostPaths() []MountHostPath {
	switch m.Kind() {
	case KindBind:
		return []MountHostPath{{Path: m.Source, Field: "source", ReadOnly: m.ReadOnly()}}
	case KindOverlay:
		return m.overlayLayers()
	}
	return nil
}

func (m *Mount) overlayLayers() []MountHostPath {
	var out []MountHostPath
	for _, o := range m.DataOptions() {
		key, value, ok := strings.Cut(o, "=")
		if !ok || !overlayPathOptions[key] {
			continue
		}
		// Only the writable layer is written through; the lower layers
		// and the data-only layers are read, whatever the mount's flags.
		ro := key != "upperdir" && key != "workdir" || m.ReadOnly()
		paths := []string{value}
		if key == "lowerdir" {
			paths = SplitLowerDirs(value)
		}
		for _, p := range paths {
			out = append(out, MountHostPath{Path: unescapeOverlay(p), Field: key, ReadOnly: ro})
		}
	}
	return out
}

// DataOptions are the options as the filesystem reads them. runc and crun
// join the options they do not turn into mount flags with commas, so one
// OCI option "lowerdir=/a,upperdir=/b" is two options to the kernel;
// overlayfs lets a backslash escape a comma inside a path.
func (m *Mount) DataOptions() []string {
	var out []string
	for _, o := range m.Options {
		out = append(out, splitUnescaped(o, ',')...)
	}
	return out
}

// SplitLowerDirs splits overlayfs' lowerdir value on the colons that are
// not escaped with a backslash; "::" (Linux 6.5) separates the data-only
// layers and yields no empty path. Escapes are kept: unescapeOverlay
// removes them.
func SplitLowerDirs(value string) []string {
	return splitUnescaped(value, ':')
}

func splitUnescaped(value string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case '\\':
			i++ // the next character is literal
		case sep:
			out = appendNonEmpty(out, value[start:i])
			start = i + 1
		}
	}
	return appendNonEmpty(out, value[start:])
}

func appendNonEmpty(out []string, s string) []string {
	if s == "" {
		return out
	}
	return append(out, s)
}

// unescapeOverlay removes the backslash escapes overlayfs accepts in a
// path (before ':', ',' and '\').
func unescapeOverlay(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			i++
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// HasOption reports whether the mount's options contain o exactly.
func (m *Mount) HasOption(o string) bool {
	return slices.Contains(m.Options, o)
}

// isBindOption reports whether one OCI option asks for a bind: "bind",
// "rbind", or either inside a comma-joined option.
func isBindOption(o string) bool {
	for _, part := range strings.Split(o, ",") {
		if part == "bind" || part == "rbind" {
			return true
		}
	}
	return false
}
