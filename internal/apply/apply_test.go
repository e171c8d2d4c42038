package apply

import (
	"slices"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var profile = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}

func rewrites() []view.Rewrite {
	return []view.Rewrite{
		{Kind: view.DropMount, Mount: view.Mount{Destination: "/host"}},
		{Kind: view.ReadOnlyMount, Mount: view.Mount{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}}},
		{Kind: view.RemoveDevice, Device: view.Device{Path: "/dev/fuse"}},
		{Kind: view.SetSeccomp, Seccomp: profile},
	}
}

func TestToNRI(t *testing.T) {
	if ToNRI(nil) != nil {
		t.Fatal("no rewrites must give no adjustment")
	}
	adj := ToNRI(rewrites())
	var removed, added []string
	for _, m := range adj.Mounts {
		if dest, ok := m.IsMarkedForRemoval(); ok {
			removed = append(removed, dest)
		} else {
			added = append(added, m.Destination+":"+m.Options[len(m.Options)-1])
		}
	}
	if !slices.Equal(removed, []string{"/host", "/logs"}) || !slices.Equal(added, []string{"/logs:ro"}) {
		t.Fatalf("mounts removed %v added %v", removed, added)
	}
	if p, ok := adj.Linux.Devices[0].IsMarkedForRemoval(); !ok || p != "/dev/fuse" {
		t.Fatalf("devices %v", adj.Linux.Devices)
	}
	if sc := adj.Linux.SeccompPolicy; sc == nil || sc.DefaultAction != string(specs.ActErrno) || sc.Syscalls[0].Names[0] != "read" {
		t.Fatalf("seccomp %v", adj.Linux.SeccompPolicy)
	}
	var _ *api.ContainerAdjustment = adj
}

func TestToSpec(t *testing.T) {
	spec := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/host", Type: "bind", Source: "/", Options: []string{"rbind"}},
			{Destination: "/logs", Type: "bind", Source: "/var/log", Options: []string{"rbind", "rw"}},
		},
		Linux: &specs.Linux{Devices: []specs.LinuxDevice{{Path: "/dev/fuse"}, {Path: "/dev/null"}}},
	}
	ToSpec(spec, rewrites())
	if len(spec.Mounts) != 2 || spec.Mounts[1].Destination != "/logs" || !slices.Equal(spec.Mounts[1].Options, []string{"rbind", "ro"}) {
		t.Fatalf("mounts %+v", spec.Mounts)
	}
	if len(spec.Linux.Devices) != 1 || spec.Linux.Devices[0].Path != "/dev/null" {
		t.Fatalf("devices %+v", spec.Linux.Devices)
	}
	if spec.Linux.Seccomp != profile {
		t.Fatal("seccomp not set")
	}
}

func TestToSpecProcessRewrites(t *testing.T) {
	caps := []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}
	spec := &specs.Spec{
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: slices.Clone(caps), Effective: slices.Clone(caps), Permitted: slices.Clone(caps), Ambient: []string{"CAP_SYS_ADMIN"}}},
	}
	ToSpec(spec, []view.Rewrite{{Kind: view.DropCapability, Capability: "CAP_SYS_ADMIN"}, {Kind: view.SetRootReadonly}, {Kind: view.SetNoNewPrivileges}})
	c := spec.Process.Capabilities
	if !slices.Equal(c.Bounding, []string{"CAP_CHOWN"}) || !slices.Equal(c.Effective, []string{"CAP_CHOWN"}) || len(c.Ambient) != 0 {
		t.Fatalf("capabilities %+v", c)
	}
	if !spec.Root.Readonly || !spec.Process.NoNewPrivileges {
		t.Fatal("root.readonly / noNewPrivileges not set")
	}
}
