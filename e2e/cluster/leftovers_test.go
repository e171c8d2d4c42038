//go:build e2e_cluster

package cluster

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// What a bed creates outside its root is found by three marks, so a
// teardown, and after a killed run the next run's sweep, removes exactly
// that: its mount namespace (every daemon and shim lives in it; the
// inode is in ROOT/mntns), its root's path in processes' arguments, and
// the kubelet's cgroupRoot /nrigc-TOKEN (every container's cgroup). The
// namespaces' mounts, bridge and veths vanish with their last process.

// cgroupMounts lists the mount points of every cgroup hierarchy.
func cgroupMounts() []string {
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		fields, postFields := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) > 4 && len(postFields) > 0 && strings.HasPrefix(postFields[0], "cgroup") {
			out = append(out, fields[4])
		}
	}
	return out
}

// cgroupDirs lists a cgroup subtree in every hierarchy, deepest first.
func cgroupDirs(parent string) []string {
	var dirs []string
	for _, m := range cgroupMounts() {
		filepath.WalkDir(filepath.Join(m, parent), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return dirs
}

func cgroupPids(parent string) []int {
	seen := map[int]bool{}
	for _, d := range cgroupDirs(parent) {
		raw, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(raw)) {
			if pid, err := strconv.Atoi(f); err == nil {
				seen[pid] = true
			}
		}
	}
	var pids []int
	for pid := range seen {
		pids = append(pids, pid)
	}
	return pids
}

// removeCgroups removes a cgroup subtree; a cgroup whose last process was
// just killed can stay busy for a moment.
func removeCgroups(parent string) error {
	var err error
	pollUntil(5e9, func() bool {
		err = nil
		for _, d := range cgroupDirs(parent) {
			if e := syscall.Rmdir(d); e != nil && e != syscall.ENOENT {
				err = fmt.Errorf("rmdir %s: %w", d, e)
			}
		}
		return err == nil
	})
	return err
}

// removeLeftovers kills and removes what a bed may have left outside
// its namespace's life and says what it had to remove. The cgroup root
// itself is the bed's own doing and not a leak; processes in it are.
func removeLeftovers(root, token, mntNS string) []string {
	var found []string
	if mntNS != "" {
		if pids := pidsInMountNamespace(mntNS); len(pids) > 0 {
			found = append(found, fmt.Sprintf("processes %v in the bed's mount namespace", pids))
			killAll(pids)
		}
	}
	if pids := pidsWithArg(root); len(pids) > 0 {
		found = append(found, fmt.Sprintf("processes %v naming %s", pids, root))
		killAll(pids)
	}
	cg := cgroupRootOf(token)
	if pids := cgroupPids(cg); len(pids) > 0 {
		found = append(found, fmt.Sprintf("container processes %v in cgroup %s", pids, cg))
		killAll(pids)
	}
	if err := removeCgroups(cg); err != nil {
		found = append(found, err.Error())
	}
	// The bed's mounts live in its private namespace; one seen here
	// escaped it.
	raw, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], root) {
			found = append(found, "mount "+f[4])
			syscall.Unmount(f[4], syscall.MNT_DETACH)
		}
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
		if ownerAlive(readFile(ownerFile)) {
			continue
		}
		token := strings.TrimPrefix(filepath.Base(root), "nrigc-")
		mntNS := strings.TrimSpace(readFile(filepath.Join(root, "mntns")))
		found := removeLeftovers(root, token, mntNS)
		os.RemoveAll(root)
		fmt.Printf("e2e-cluster: removed %s left by an earlier run; it had left: %v\n", root, found)
	}
}
