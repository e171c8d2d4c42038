//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

// Everything an environment creates outside its temporary root is named
// by its token: the bridge nrig-TOKEN and the cgroup parent /nrig-TOKEN
// of every pod. Processes are found by the root's path in their
// arguments. So leftovers can be found and removed precisely, both at the
// end of an environment and, after a run that was killed, at the start of
// the next one.

func bridgeName(token string) string   { return "nrig-" + token }
func cgroupParent(token string) string { return "/nrig-" + token }

func deleteLink(name string) {
	if _, err := os.Stat(filepath.Join("/sys/class/net", name)); err == nil {
		exec.Command("ip", "link", "del", name).Run()
	}
}

// removeLeftovers removes what an environment with this root and token
// may have left and returns a description of each thing it had to
// remove by force. Used at teardown and by sweepStaleRoots.
func removeLeftovers(root, token string) []string {
	var found []string
	if pids := testhost.PidsWithArg(root); len(pids) > 0 {
		found = append(found, fmt.Sprintf("processes %v referring to %s (shims, containerd, plugins)", pids, root))
		testhost.KillAll(pids)
	}
	if pids := testhost.CgroupPids(cgroupParent(token)); len(pids) > 0 {
		found = append(found, fmt.Sprintf("container processes %v in cgroup %s", pids, cgroupParent(token)))
		testhost.KillAll(pids)
	}
	if err := testhost.RemoveCgroups(cgroupParent(token)); err != nil {
		found = append(found, err.Error())
	}
	// The mounts live in the environment's private mount namespace; any
	// seen here escaped it.
	for _, m := range testhost.MountsUnder(root) {
		found = append(found, "mount "+m)
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	deleteLink(bridgeName(token))
	return found
}

// sweepStaleRoots cleans up after earlier runs that were killed before
// their teardown (SIGKILL, a crash): roots whose owner process is gone.
func sweepStaleRoots() {
	roots, _ := filepath.Glob(filepath.Join(os.TempDir(), "nrig-*", "owner"))
	for _, ownerFile := range roots {
		root := filepath.Dir(ownerFile)
		if testhost.OwnerAlive(readFile(ownerFile)) {
			continue
		}
		token := strings.TrimPrefix(filepath.Base(root), "nrig-")
		found := removeLeftovers(root, token)
		os.RemoveAll(root)
		fmt.Printf("e2e: removed %s left by an earlier run; it had left: %v\n", root, found)
	}
}

// pollUntil calls ok every 50 ms until it holds or limit passes.
func pollUntil(limit time.Duration, ok func() bool) bool {
	return testhost.PollUntil(limit, 50*time.Millisecond, ok)
}
