package apply

import (
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
			spec.Mounts = dropMount(spec.Mounts, r.Mount.Destination)
		case view.ReadOnlyMount:
			for i := range spec.Mounts {
				if spec.Mounts[i].Destination == r.Mount.Destination {
					spec.Mounts[i].Options = view.WithReadOnly(spec.Mounts[i].Options)
				}
			}
		case view.RemoveDevice:
			if spec.Linux != nil {
				spec.Linux.Devices = dropDevice(spec.Linux.Devices, r.Device.Path)
			}
		case view.SetSeccomp:
			if spec.Linux == nil {
				spec.Linux = &specs.Linux{}
			}
			spec.Linux.Seccomp = r.Seccomp
		}
	}
}

func dropMount(ms []specs.Mount, dest string) []specs.Mount {
	out := ms[:0]
	for _, m := range ms {
		if m.Destination != dest {
			out = append(out, m)
		}
	}
	return out
}

func dropDevice(ds []specs.LinuxDevice, path string) []specs.LinuxDevice {
	out := ds[:0]
	for _, d := range ds {
		if d.Path != path {
			out = append(out, d)
		}
	}
	return out
}
