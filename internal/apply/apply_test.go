package apply

import (
	"slices"
	"testing"

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
