package install

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/userns"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv(userns.HolderEnv) == "1" {
		os.Exit(userns.Hold()) // the test binary as the probe's holder
	}
	os.Exit(m.Run())
}

// The probe passes on this kernel (6.3 and later: tmpfs idmaps) for a
// directory on an idmappable file system, and fails naming a directory
// on overlayfs, which no kernel idmaps.
func TestProbeRemap(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a tmpfs and a user namespace")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "tmpfs")
	os.Mkdir(good, 0o755)
	if err := unix.Mount("tmpfs", good, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(good, unix.MNT_DETACH)
	ok, why := probeRemap([]string{good, filepath.Join(dir, "missing")})
	if !ok || !strings.Contains(why, good+" (tmpfs)") {
		t.Fatalf("probe of a tmpfs: %v, %s", ok, why)
	}
	overlay := filepath.Join(dir, "overlay")
	for _, d := range []string{"overlay", "tmpfs/l", "tmpfs/u", "tmpfs/w"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	if err := unix.Mount("overlay", overlay, "overlay", 0, "lowerdir="+good+"/l,upperdir="+good+"/u,workdir="+good+"/w"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(overlay, unix.MNT_DETACH)
	if ok, why := probeRemap([]string{good, overlay}); ok || why != "this kernel cannot idmap "+overlay+" (overlay)" {
		t.Fatalf("probe of an overlay: %v, %s", ok, why)
	}
}
