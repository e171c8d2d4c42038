package nriplugin

import (
	"slices"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var adjProfile = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}

func adjRewrites() []view.Rewrite {
	return []view.Rewrite{
		{Kind: view.DropMount, Mount: view.Mount{Destination: "/host"}},
		{Kind: view.ReadOnlyMount, Mount: view.Mount{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}}},
		{Kind: view.RemoveDevice, Device: view.Device{Path: "/dev/fuse"}},
		{Kind: view.SetSeccomp, Seccomp: adjProfile},
	}
}

func TestAdjustment(t *testing.T) {
	if adjustment(nil) != nil {
		t.Fatal("no rewrites must give no adjustment")
	}
	adj := adjustment(adjRewrites())
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
