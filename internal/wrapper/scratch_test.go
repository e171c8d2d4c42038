package wrapper

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

// TestRealScratch: only directories the image has, reached without a
// symlink, get a scratch tmpfs; a user namespace gets none; the engine's
// rewrites are left as they were.
func TestRealScratch(t *testing.T) {
	rootfs := t.TempDir()
	for _, d := range []string{"tmp", "run", "var/lib", "etc"} {
		must(t, os.MkdirAll(filepath.Join(rootfs, d), 0o755))
	}
	must(t, os.Symlink("/etc", filepath.Join(rootfs, "var", "log")))     // the attack: /etc made writable
	must(t, os.Symlink("../etc", filepath.Join(rootfs, "var", "cache"))) // relative, same
	must(t, os.Symlink("/", filepath.Join(rootfs, "srv")))
	scratch := func(dirs ...string) []view.Mount {
		var out []view.Mount
		for _, d := range dirs {
			out = append(out, view.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs"})
		}
		return out
	}
	all := []string{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log", "/var/lib", "/srv/x"}
	rewrites := []view.Rewrite{{Kind: view.DropCapability, Capability: "CAP_NET_RAW"}, {Kind: view.SetRootReadonly, Scratch: scratch(all...)}}
	got := realScratch(rootfs, rewrites)
	var dirs []string
	for _, m := range got[1].Scratch {
		dirs = append(dirs, m.Destination)
	}
	if want := []string{"/tmp", "/run", "/var/lib"}; !slices.Equal(dirs, want) {
		t.Fatalf("scratch over %v, want %v", dirs, want)
	}
	if len(rewrites[1].Scratch) != len(all) || got[0].Capability != rewrites[0].Capability {
		t.Fatal("the engine's rewrites were changed in place")
	}
	withUserNS := append(slices.Clone(rewrites), view.Rewrite{Kind: view.SetUserNamespace})
	if got := realScratch(rootfs, withUserNS); len(got[1].Scratch) != 3 {
		t.Fatalf("a container given a user namespace keeps its real scratch directories (copied later): got %v", got[1].Scratch)
	}
}
