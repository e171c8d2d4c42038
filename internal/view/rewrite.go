package view

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RewriteKind is one change a control may ask for. Controls only produce
// these values; appliers turn them into an NRI adjustment or an edited OCI
// spec, so no control ever knows which of the two it serves.
type RewriteKind int

const (
	// DropMount removes the mount at Mount.Destination.
	DropMount RewriteKind = iota
	// ReadOnlyMount keeps Mount but makes it read-only.
	ReadOnlyMount
	// RemoveDevice removes the device node at Device.Path.
	RemoveDevice
	// SetSeccomp installs Seccomp as the container's filter.
	SetSeccomp
	// DropCapability removes Capability from all five sets.
	DropCapability
	// SetRootReadonly makes the root filesystem read-only and mounts
	// Scratch (tmpfs mounts) over the directories kept writable.
	SetRootReadonly
	// SetNoNewPrivileges sets no_new_privs.
	SetNoNewPrivileges
	// AddMaskedPaths adds Paths to the masked paths and ReadonlyPaths to
	// the read-only ones.
	AddMaskedPaths
	// SetUserNamespace runs the container in the pod's user namespace, with
	// host ids from the node's pool. Only the runtime wrapper can apply it:
	// it needs the pool and the pod's sandbox.
	SetUserNamespace

	rewriteKinds // the count; keep last
)

var rewriteKindNames = [rewriteKinds]string{"drop-mount", "read-only-mount", "remove-device", "set-seccomp",
	"drop-capability", "set-root-readonly", "set-no-new-privileges", "add-masked-paths", "set-user-namespace"}

func (k RewriteKind) String() string {
	if k < 0 || k >= rewriteKinds {
		return fmt.Sprintf("rewrite-kind-%d", int(k))
	}
	return rewriteKindNames[k]
}

// RewriteKinds lists every kind, for tests that each applier handles or
// refuses every one.
func RewriteKinds() []RewriteKind {
	out := make([]RewriteKind, rewriteKinds)
	for i := range out {
		out[i] = RewriteKind(i)
	}
	return out
}

// Rewrite is one requested change of the container.
type Rewrite struct {
	Kind    RewriteKind
	Mount   Mount
	Device  Device
	Seccomp *specs.LinuxSeccomp
	// SeccompName says which profile Seccomp is, for people.
	SeccompName string
	Capability  string
	// Paths and ReadonlyPaths are for AddMaskedPaths.
	Paths, ReadonlyPaths []string
	// Scratch are the tmpfs mounts SetRootReadonly adds. They go first
	// in the spec's mounts: every mount the container already has lies
	// outside them or below them, and a mount below one must be mounted
	// after it to stay visible.
	Scratch []Mount
}

// Change is a rewrite spelled out for people: field, before, after.
type Change struct {
	Field  string
	Before string
	After  string
}

// Describe spells the rewrite out as a change of one field.
func (r Rewrite) Describe() Change {
	switch r.Kind {
	case DropMount:
		return Change{Field: "mounts[" + r.Mount.Destination + "]", Before: mountText(r.Mount), After: "(removed)"}
	case ReadOnlyMount:
		ro := r.Mount
		ro.Options = WithReadOnly(r.Mount.Options)
		return Change{Field: "mounts[" + r.Mount.Destination + "]", Before: mountText(r.Mount), After: mountText(ro)}
	case RemoveDevice:
		return Change{Field: "linux.devices[" + r.Device.Path + "]", Before: fmt.Sprintf("%s %d:%d", r.Device.Type, r.Device.Major, r.Device.Minor), After: "(removed)"}
	case SetSeccomp:
		return Change{Field: "linux.seccomp", Before: "(none or unconfined)", After: fmt.Sprintf("%s (default action %s, %d rules)", r.SeccompName, r.Seccomp.DefaultAction, len(r.Seccomp.Syscalls))}
	case DropCapability:
		return Change{Field: "process.capabilities", Before: r.Capability, After: "(dropped from every set)"}
	case SetRootReadonly:
		return Change{Field: "root.readonly", Before: "false", After: "true" + scratchText(r.Scratch)}
	case SetNoNewPrivileges:
		return Change{Field: "process.noNewPrivileges", Before: "false", After: "true"}
	case AddMaskedPaths:
		return Change{Field: "linux.maskedPaths/readonlyPaths", Before: "(missing)", After: strings.Join(append(append([]string{}, r.Paths...), r.ReadonlyPaths...), ", ")}
	case SetUserNamespace:
		return Change{Field: "linux.namespaces.user", Before: "(the node's)", After: "the pod's own, 65536 host ids from the node's pool"}
	}
	return Change{Field: "?"}
}

func scratchText(scratch []Mount) string {
	if len(scratch) == 0 {
		return ""
	}
	dirs := make([]string, len(scratch))
	for i, m := range scratch {
		dirs[i] = m.Destination
	}
	return " (writable tmpfs over " + strings.Join(dirs, ", ") + ")"
}

func mountText(m Mount) string {
	return fmt.Sprintf("%s from %s [%s]", m.Type, m.Source, strings.Join(m.Options, ","))
}

// Apply changes the view as the rewrite will change the container, so
// callers can show or re-judge the result.
func (c *Container) Apply(r Rewrite) {
	switch r.Kind {
	case DropMount:
		c.Mounts = deleteWhere(c.Mounts, func(m Mount) bool { return m.Destination == r.Mount.Destination })
	case ReadOnlyMount:
		for i := range c.Mounts {
			if c.Mounts[i].Destination == r.Mount.Destination {
				c.Mounts[i].Options = WithReadOnly(c.Mounts[i].Options)
			}
		}
	case RemoveDevice:
		c.Devices = deleteWhere(c.Devices, func(d Device) bool { return d.Path == r.Device.Path })
		c.DeviceRules = deleteWhere(c.DeviceRules, func(rule DeviceRule) bool { return rule.AllowsExactly(r.Device) })
	case SetSeccomp:
		c.Seccomp = Seccomp{State: SeccompCustom, Profile: r.Seccomp}
	case SetUserNamespace:
		c.Namespaces = append(deleteWhere(c.Namespaces, func(ns Namespace) bool { return ns.Type == "user" }), Namespace{Type: "user"})
		if c.Process != nil {
			c.Process.UserNamespace = true
			c.Process.UserNamespaceGiven = true
		}
	case SetRootReadonly:
		c.Mounts = append(slices.Clone(r.Scratch), c.Mounts...)
		if c.Process != nil {
			c.Process.apply(r)
		}
	case DropCapability, SetNoNewPrivileges, AddMaskedPaths:
		if c.Process != nil {
			c.Process.apply(r)
		}
	}
}

func (p *Process) apply(r Rewrite) {
	switch r.Kind {
	case DropCapability:
		caps := &p.Capabilities
		for _, set := range []*[]string{&caps.Bounding, &caps.Effective, &caps.Inheritable, &caps.Permitted, &caps.Ambient} {
			*set = slices.DeleteFunc(slices.Clone(*set), func(c string) bool { return c == r.Capability })
		}
	case SetRootReadonly:
		p.RootReadonly = true
	case SetNoNewPrivileges:
		p.NoNewPrivileges = true
	case AddMaskedPaths:
		p.MaskedPaths = append(slices.Clone(p.MaskedPaths), r.Paths...)
		p.ReadonlyPaths = append(slices.Clone(p.ReadonlyPaths), r.ReadonlyPaths...)
	}
}

// deleteWhere returns items without the matching ones, in a new slice:
// views share backing arrays with the view they were cloned from.
func deleteWhere[T any](items []T, match func(T) bool) []T {
	return slices.DeleteFunc(slices.Clone(items), match)
}
