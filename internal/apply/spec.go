// Package apply turns the engine's rewrites into an edited OCI spec, for
// the callers that hold the whole spec (the runtime wrapper, the offline
// check). The NRI plugin's counterpart is nriplugin's adjustment.
package apply

import (
	"slices"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ToSpec performs rewrites on an OCI spec in place: the applier for
// callers that hold the whole spec (the runtime wrapper, the offline
// check), which can do what NRI cannot, such as removing a device.
func ToSpec(spec *specs.Spec, rewrites []view.Rewrite) {
	for _, r := range rewrites {
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
			}
		case view.SetSeccomp:
			if spec.Linux == nil {
				spec.Linux = &specs.Linux{}
			}
			spec.Linux.Seccomp = r.Seccomp
		case view.DropCapability:
			dropCapability(spec, r.Capability)
		case view.SetRootReadonly:
			if spec.Root != nil {
				spec.Root.Readonly = true
			}
		case view.SetNoNewPrivileges:
			if spec.Process != nil {
				spec.Process.NoNewPrivileges = true
			}
		case view.AddMaskedPaths:
			if spec.Linux == nil {
				spec.Linux = &specs.Linux{}
			}
			spec.Linux.MaskedPaths = append(spec.Linux.MaskedPaths, r.Paths...)
			spec.Linux.ReadonlyPaths = append(spec.Linux.ReadonlyPaths, r.ReadonlyPaths...)
		case view.SetUserNamespace:
			// Needs the node's id pool and the pod's sandbox: the runtime
			// wrapper applies it (internal/wrapper/userns.go).
		}
	}
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
