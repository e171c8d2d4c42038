// Package view is the normalized container every control judges. It is
// built from an NRI request (fromnri.go) or from an OCI runtime spec and its
// CRI annotations (fromspec.go), so one engine serves the NRI plugin, the
// runtime wrapper and the offline check alike.
package view

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Container is one container as the runtime is about to create it.
type Container struct {
	ID   string
	Name string
	Pod  Pod
	// Image is the image reference; empty when the runtime did not say.
	Image       string
	Annotations map[string]string

	// Namespaces the container gets. A type that is absent is shared with
	// the host: that is how the OCI spec says "host namespace".
	Namespaces []Namespace
	Mounts     []Mount
	Devices    []Device
	// DeviceRules are the device cgroup's rules (linux.resources.devices),
	// nil when the source does not show them (NRI).
	DeviceRules []DeviceRule
	Seccomp     Seccomp
	Sysctls     map[string]string
	// SysctlsKnown is false when the runtime does not report sysctls
	// (containerd before 2.3), so their absence proves nothing.
	SysctlsKnown bool
	Hooks        []Hook
	// Adjustments are the changes NRI plugins made to fields no other
	// control judges (validation phase only; see adjustment.go).
	Adjustments []Adjustment

	// Process holds what only a whole OCI spec shows (capabilities,
	// no_new_privs, cwd, the read-only root flag, masked paths). It is
	// nil when the view was built from NRI, which shows none of it.
	Process *Process
	// Sandbox is set for a pod's sandbox (pause) container, which NRI
	// never shows and the runtime wrapper does.
	Sandbox bool
	// Args is the process's command line (process.args; NRI's
	// Container.args), nil when the source does not show it. Exceptions
	// may pin it (match.args).
	Args []string
	// ArgsFromImage: Args are a manifest's args alone, the image's
	// entrypoint unknown (the offline check).
	ArgsFromImage bool
}

// Process is the process and root setup from a full spec.
type Process struct {
	Capabilities    Capabilities
	NoNewPrivileges bool
	Cwd             string
	UID             uint32
	RootReadonly    bool
	MaskedPaths     []string
	ReadonlyPaths   []string
	// UserNamespace: the container has a user namespace of its own, so
	// uid 0 inside is not root on the node.
	UserNamespace bool
	// UIDMappings and GIDMappings are the user namespace's id mappings:
	// the spec's, or for a namespace joined by path the ones the kernel
	// shows for it. IDMapsUnknown says why they could not be read. A user
	// namespace counts only as UserNamespaceProblem says (idmaps.go).
	UIDMappings, GIDMappings []specs.LinuxIDMapping
	IDMapsUnknown            string
	// UserNamespaceGiven: the wrapper gives the container a user
	// namespace with ids from its own pool (a rewrite applied to the view).
	UserNamespaceGiven bool
	// AppArmorProfile and SELinuxLabel are the LSM settings, "" if unset.
	AppArmorProfile string
	SELinuxLabel    string

	// GID and AdditionalGids are the process's group and supplementary
	// groups.
	GID            uint32
	AdditionalGids []uint32
}

// Capabilities are the five capability sets of a process.
type Capabilities struct {
	Bounding, Effective, Inheritable, Permitted, Ambient []string
}

// All returns every capability in any set, once, in first-seen order.
func (c *Capabilities) All() []string {
	var out []string
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		for _, name := range set {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// Pod is the pod sandbox a container belongs to.
type Pod struct {
	ID        string
	UID       string
	Name      string
	Namespace string
	Labels    map[string]string
	// RuntimeHandler is the containerd runtime the pod runs under (its
	// RuntimeClass handler), "" for containerd's default runtime. NRI shows
	// it; an OCI spec does not, so the runtime wrapper fills in the handler
	// it serves.
	RuntimeHandler string
	// UIDDoubt, when set, says why UID is not taken as this pod's own
	// (another live sandbox holds it; no signed record vouches for it):
	// kubelet's pods/<uid> directory is then not credited to the pod.
	UIDDoubt string
}

// Namespace is one Linux namespace entry of the spec.
type Namespace struct {
	Type string
	Path string
	// Host is set when the path joins one of the node's own namespaces.
	Host    bool
	AddedBy string
}

// Mount is one mount of the spec.
type Mount struct {
	Source      string
	Destination string
	Type        string
	Options     []string
	// AddedBy names the NRI plugin that added the mount, if any.
	AddedBy string
	// Via is kubelet's subPath bind the mount came through, when Source
	// was resolved from it to the host path it shows.
	Via string
	// Unresolved says why a kubelet subPath bind could not be traced to
	// a host path; such a mount is judged as an unknown host path.
	Unresolved string
}

// Device is one device node of the spec.
type Device struct {
	Path    string
	Type    string
	Major   int64
	Minor   int64
	AddedBy string
}

// DeviceRule is one rule of the container's device cgroup: which device
// numbers it may open or make, whether or not a node for them is in its
// /dev.
type DeviceRule struct {
	Allow bool
	// Type is "c", "b", or "a" (all; "" in a spec means the same).
	Type string
	// Major and Minor are -1 for any.
	Major, Minor int64
	// Access is a combination of r, w and m; "" means all three.
	Access string
}

// KernelType is the device's type as the kernel and the device cgroup
// name it: "u" (an unbuffered character device) is a "c".
func (d Device) KernelType() string {
	if d.Type == "u" {
		return "c"
	}
	return d.Type
}

// AllowsExactly: the rule allows this one device number and no other
// (the rule the runtime writes beside each device node).
func (r DeviceRule) AllowsExactly(d Device) bool {
	return r.Allow && r.Type != "a" && r.Major >= 0 && r.Minor >= 0 &&
		r.Type == d.KernelType() && r.Major == d.Major && r.Minor == d.Minor
}

// SeccompState says how the container's system calls are filtered.
type SeccompState int

const (
	// SeccompUnconfined: no filter, or one that allows everything.
	SeccompUnconfined SeccompState = iota
	// SeccompRuntimeDefault: the runtime's default profile.
	SeccompRuntimeDefault
	// SeccompLocalhost: a profile file from the node, named by the client.
	SeccompLocalhost
	// SeccompCustom: a filter whose origin is unknown (an OCI spec read
	// offline) or that an NRI plugin set.
	SeccompCustom
)

func (s SeccompState) String() string {
	return [...]string{"unconfined", "RuntimeDefault", "Localhost", "custom"}[s]
}

// Seccomp is the container's seccomp setup.
type Seccomp struct {
	State        SeccompState
	LocalhostRef string
	// Profile is the filter itself when the source shows it.
	Profile *specs.LinuxSeccomp
	AddedBy string
	// ProfileError says why the filter of a Localhost profile could not
	// be read when the runtime did not show it (containerd before 2.3).
	ProfileError string
}

// Hook is one OCI hook; hooks run as root in the host's namespaces.
type Hook struct {
	Stage   string
	Path    string
	AddedBy string
}

// InHostNamespace reports whether the container shares the node's
// namespace of type t (pid, ipc, network, uts, ...).
func (c *Container) InHostNamespace(t string) bool {
	for _, ns := range c.Namespaces {
		if ns.Type == t {
			return ns.Host
		}
	}
	return true
}

// IsBind reports whether m makes a host path visible in the container.
func (m *Mount) IsBind() bool {
	return IsBindMount(m.Type, m.Options)
}

// IsBindMount reports whether an OCI mount of this type and options
// binds a path of the node. A bind or rbind option makes any type a bind
// ("none", "", "tmpfs"); one hidden in a comma-joined option counts too
// (isBindOption), which can only make the judgement stricter.
func IsBindMount(typ string, options []string) bool {
	return typ == "bind" || slices.ContainsFunc(options, isBindOption)
}

// ReadOnly reports whether the mount is read-only: the last of "ro"/"rw"
// wins, as in mount(8).
func (m *Mount) ReadOnly() bool {
	ro := false
	for _, o := range m.Options {
		switch o {
		case "ro":
			ro = true
		case "rw":
			ro = false
		}
	}
	return ro
}

// WithReadOnly returns the options with every rw replaced by ro (and ro
// added when neither was there).
func WithReadOnly(options []string) []string {
	out := make([]string, 0, len(options)+1)
	for _, o := range options {
		if o != "rw" && o != "ro" {
			out = append(out, o)
		}
	}
	return append(out, "ro")
}

// IsPermissive reports whether a seccomp filter lets every system call
// through: an "allow by default" filter with no rule that refuses
// anything is unconfined in all but name.
func IsPermissive(p *specs.LinuxSeccomp) bool {
	if p == nil {
		return true
	}
	if !allows(p.DefaultAction) {
		return false
	}
	for _, sc := range p.Syscalls {
		if !allows(sc.Action) {
			return false
		}
	}
	return true
}

func allows(a specs.LinuxSeccompAction) bool {
	return a == specs.ActAllow || a == specs.ActLog || strings.EqualFold(string(a), "")
}

// PathElement accepts a single path element. A CRI client chooses the pod
// UID and sandbox ID, so "..", or one with slashes, must not widen a
// directory named after it (kubelet's pods/<uid>, containerd's
// sandboxes/<id>) to its parents.
func PathElement(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.Contains(s, "/")
}
