package nriplugin

import (
	"slices"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
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
	if adj, err := adjustment(nil); adj != nil || err != nil {
		t.Fatal("no rewrites must give no adjustment")
	}
	adj, err := adjustment(adjRewrites())
	if err != nil {
		t.Fatal(err)
	}
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

// TestEveryRewriteKindIsAdjustedOrRefused: the kinds NRI can express give
// an adjustment, every other one an error; none is dropped in silence.
func TestEveryRewriteKindIsAdjustedOrRefused(t *testing.T) {
	nri := map[view.RewriteKind]bool{view.DropMount: true, view.ReadOnlyMount: true, view.RemoveDevice: true, view.SetSeccomp: true}
	for _, k := range view.RewriteKinds() {
		r := view.Rewrite{Kind: k, Mount: view.Mount{Destination: "/logs", Options: []string{"rw"}}, Device: view.Device{Path: "/dev/fuse"}, Seccomp: adjProfile}
		adj, err := adjustment([]view.Rewrite{r})
		switch {
		case nri[k] && (err != nil || adj == nil || proto.Equal(adj, &api.ContainerAdjustment{})):
			t.Errorf("%s: no adjustment (%v)", k, err)
		case !nri[k] && (err == nil || !strings.Contains(err.Error(), k.String())):
			t.Errorf("%s: not refused: %v", k, err)
		}
	}
}
