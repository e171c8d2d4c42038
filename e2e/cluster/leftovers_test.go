//go:build e2e_cluster

package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

// What a bed creates outside its root is found by three marks, so a
// teardown, and after a killed run the next run's sweep, removes exactly
// that: its mount namespace (every daemon and shim lives in it; the
// inode is in ROOT/mntns), its root's path in processes' arguments, and
// the kubelet's cgroupRoot /nrigc-TOKEN (every container's cgroup). The
// namespaces' mounts, bridge and veths vanish with their last process.

// removeLeftovers kills and removes what a bed may have left outside
// its namespace's life and says what it had to remove. The cgroup root
// itself is the bed's own doing and not a leak; processes in it are.
func removeLeftovers(root, token, mntNS string) []string {
	var found []string
	if mntNS != "" {
		if pids := testhost.PidsInMountNamespace(mntNS); len(pids) > 0 {
			found = append(found, fmt.Sprintf("processes %v in the bed's mount namespace", pids))
			testhost.KillAll(pids)
		}
	}
	if pids := testhost.PidsWithArg(root); len(pids) > 0 {
		found = append(found, fmt.Sprintf("processes %v naming %s", pids, root))
		testhost.KillAll(pids)
	}
	cg := cgroupRootOf(token)
	if pids := testhost.CgroupPids(cg); len(pids) > 0 {
		found = append(found, fmt.Sprintf("container processes %v in cgroup %s", pids, cg))
		testhost.KillAll(pids)
	}
	if err := testhost.RemoveCgroups(cg); err != nil {
		found = append(found, err.Error())
	}
	// The bed's mounts live in its private namespace; one seen here
	// escaped it.
	for _, m := range testhost.MountsUnder(root) {
		found = append(found, "mount "+m)
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	return found
}

// sweepStaleBeds cleans up after earlier runs killed before their
// teardown (SIGKILL, a crash, a lost machine session): beds whose owner
// process is gone.
func sweepStaleBeds() {
	owners, _ := filepath.Glob(filepath.Join(os.TempDir(), "nrigc-*", "owner"))
	for _, ownerFile := range owners {
		root := filepath.Dir(ownerFile)
		if testhost.OwnerAlive(readFile(ownerFile)) {
			continue
		}
		token := strings.TrimPrefix(filepath.Base(root), "nrigc-")
		mntNS := strings.TrimSpace(readFile(filepath.Join(root, "mntns")))
		found := removeLeftovers(root, token, mntNS)
		os.RemoveAll(root)
		fmt.Printf("e2e-cluster: removed %s left by an earlier run; it had left: %v\n", root, found)
	}
}
