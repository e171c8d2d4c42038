// Package apply turns the engine's rewrites into an edited OCI spec, for
// the callers that hold the whole spec (the runtime wrapper, the offline
// check). It is the one place the spec is rewritten; the NRI plugin's
// counterpart is nriplugin's adjustment. Every rewrite kind is applied or
// refused with an error, never skipped.
package apply

import (
	"fmt"
	"slices"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Spec applies rewrites to an OCI spec.
type Spec struct {
	// UserNamespace is the step that gives the container the pod's user
	// namespace: only the runtime wrapper can take it (it needs the node's
	// id pool and the pod's sandbox). It runs after the other rewrites.
	// Nil refuses a SetUserNamespace rewrite.
	UserNamespace func(*specs.Spec) error
}

// StepError is a rewrite that could not be applied.
type StepError struct {
	Kind view.RewriteKind
	Err  error
}

func (e *StepError) Error() string { return e.Kind.String() + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Apply performs rewrites on spec in place. On an error the spec may be
// half rewritten: the caller refuses the container and does not write it.
func (a Spec) Apply(spec *specs.Spec, rewrites []view.Rewrite) error {
	userNamespace := false
	for _, r := range rewrites {
		if r.Kind == view.SetUserNamespace {
			userNamespace = true
			continue
		}
		if err := toSpec(spec, r); err != nil {
			return &StepError{Kind: r.Kind, Err: err}
		}
	}
	if !userNamespace {
		return nil
	}
	if a.UserNamespace == nil {
		return &StepError{Kind: view.SetUserNamespace, Err: fmt.Errorf("only the runtime wrapper can give a container a user namespace")}
	}
	if err := a.UserNamespace(spec); err != nil {
		return &StepError{Kind: view.SetUserNamespace, Err: err}
	}
	return nil
}

func toSpec(spec *specs.Spec, r view.Rewrite) error {
	switch r.Kind {
	case view.DropMount:
		spec.Mounts = slices.DeleteFunc(spec.Mounts, func(m specs.Mount) bool { return m.Destination == r.Mount.Destination })
	case view.ReadOnlyMount:
		for i := range spec.Mounts {
			if spec.Mounts[i].Destination == r.Mount.Destination {
				spec.Mounts[i].Options = view.WithReadOnly(spec.Mounts[i].Options)
			}
		}
	case view.RemoveDevice:
		if spec.Linux != nil {
			spec.Linux.Devices = slices.DeleteFunc(spec.Linux.Devices, func(d specs.LinuxDevice) bool { return d.Path == r.Device.Path })
			dropDeviceRules(spec.Linux, r.Device)
		}
	case view.SetSeccomp:
		linux(spec).Seccomp = r.Seccomp
	case view.DropCapability:
		dropCapability(spec, r.Capability)
	case view.SetRootReadonly:
		if spec.Root == nil {
			return fmt.Errorf("the spec has no root")
		}
		spec.Root.Readonly = true
		spec.Mounts = append(scratchMounts(r.Scratch), spec.Mounts...)
	case view.SetNoNewPrivileges:
		if spec.Process == nil {
			return fmt.Errorf("the spec has no process")
		}
		spec.Process.NoNewPrivileges = true
	case view.AddMaskedPaths:
		l := linux(spec)
		l.MaskedPaths = append(l.MaskedPaths, r.Paths...)
		l.ReadonlyPaths = append(l.ReadonlyPaths, r.ReadonlyPaths...)
	default:
		return fmt.Errorf("no spec applier for this rewrite")
	}
	return nil
}

// scratchMounts are the tmpfs mounts that keep directories of a
// read-only root writable, in the spec's terms.
func scratchMounts(scratch []view.Mount) []specs.Mount {
	out := make([]specs.Mount, len(scratch))
	for i, m := range scratch {
		out[i] = specs.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: slices.Clone(m.Options)}
	}
	return out
}

func linux(spec *specs.Spec) *specs.Linux {
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	return spec.Linux
}

func dropCapability(spec *specs.Spec, name string) {
	if spec.Process == nil || spec.Process.Capabilities == nil {
		return
	}
	c := spec.Process.Capabilities
	for _, set := range []*[]string{&c.Bounding, &c.Effective, &c.Inheritable, &c.Permitted, &c.Ambient} {
		*set = slices.DeleteFunc(*set, func(s string) bool { return s == name })
	}
}

// dropDeviceRules removes the device cgroup's allow rules for exactly
// this device: the runtime added one beside the node, and without the
// node it would let the container make and open the device itself.
func dropDeviceRules(lnx *specs.Linux, dev view.Device) {
	if lnx.Resources == nil {
		return
	}
	lnx.Resources.Devices = slices.DeleteFunc(lnx.Resources.Devices, func(r specs.LinuxDeviceCgroup) bool {
		return view.DeviceRuleFromSpec(r).AllowsExactly(dev)
	})
}
