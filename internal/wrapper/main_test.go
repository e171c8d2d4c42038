package wrapper

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/userns"
	"golang.org/x/sys/unix"
)

// TestMain keeps the tests off the node's /run: the defaults a test's
// configuration leaves out (tallies, judged marks, pins) lie in a
// directory of the run's own.
// Helper processes the tests start (the test binary again) inherit the
// directory and leave it to the parent.
func TestMain(m *testing.M) {
	if os.Getenv(userns.HolderEnv) == "1" {
		os.Exit(userns.Hold()) // the test binary as settleIDMaps's holder
	}
	const inherited = "NRI_GUARD_WRAPPER_TEST_DIR"
	dir, owner := os.Getenv(inherited), false
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "nri-guard-wrapper-test-"); err != nil {
			panic(err)
		}
		os.Setenv(inherited, dir)
		owner = true
	}
	nodeFiles = func() layout.Files {
		f := layout.Node()
		f.Tallies, f.Judged, f.Pins = filepath.Join(dir, "tallies"), filepath.Join(dir, "judged"), filepath.Join(dir, "pins")
		f.IDMapAnswers = filepath.Join(dir, "idmap")
		return f
	}
	pinRoot = nodeFiles().Pins
	code := m.Run()
	if owner {
		// The pin root is made a mount of its own (pin.go) on first use.
		unix.Unmount(pinRoot, unix.MNT_DETACH)
		os.RemoveAll(dir)
	}
	os.Exit(code)
}
