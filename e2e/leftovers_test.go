//go:build e2e

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Everything an environment creates outside its temporary root is named
// by its token: the bridge nrig-TOKEN and the cgroup parent /nrig-TOKEN
// of every pod. Processes are found by the root's path in their
// arguments. So leftovers can be found and removed precisely, both at the
// end of an environment and, after a run that was killed, at the start of
// the next one.

func bridgeName(token string) string   { return "nrig-" + token }
func cgroupParent(token string) string { return "/nrig-" + token }

// cgroupMounts lists the mount points of every cgroup hierarchy (v1
// controllers and the v2 unified one).
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

// cgroupDirs lists the directories of a cgroup parent in every
// hierarchy, deepest first, so they can be removed in order.
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

// cgroupPids lists the processes left in a cgroup parent.
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
	pids := make([]int, 0, len(seen))
	for pid := range seen {
		pids = append(pids, pid)
	}
	return pids
}

// removeCgroups removes a cgroup parent; an emptied cgroup can stay busy
// for a moment after its last process was killed, hence the retries.
func removeCgroups(parent string) error {
	var err error
	pollUntil(5*time.Second, func() bool {
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

// mountsUnder lists mount points at or below dir as this process sees
// them, deepest first.
func mountsUnder(dir string) []string {
	raw, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	slices.Reverse(out)
	return out
}

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
	if pids := pidsWithArg(root); len(pids) > 0 {
		found = append(found, fmt.Sprintf("processes %v referring to %s (shims, containerd, plugins)", pids, root))
		killAll(pids)
	}
	if pids := cgroupPids(cgroupParent(token)); len(pids) > 0 {
		found = append(found, fmt.Sprintf("container processes %v in cgroup %s", pids, cgroupParent(token)))
		killAll(pids)
	}
	if err := removeCgroups(cgroupParent(token)); err != nil {
		found = append(found, err.Error())
	}
	// The mounts live in the environment's private mount namespace; any
	// seen here escaped it.
	for _, m := range mountsUnder(root) {
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
		if ownerAlive(readFile(ownerFile)) {
			continue
		}
		token := strings.TrimPrefix(filepath.Base(root), "nrig-")
		found := removeLeftovers(root, token)
		os.RemoveAll(root)
		fmt.Printf("e2e: removed %s left by an earlier run; it had left: %v\n", root, found)
	}
}

// ownerAlive reads "PID STARTTIME" and reports whether that process
// still runs.
func ownerAlive(owner string) bool {
	var pid int
	var start string
	if _, err := fmt.Sscan(owner, &pid, &start); err != nil {
		return false
	}
	now, ok := startTime(pid)
	return ok && now == start
}

func ownerRecord() string {
	start, _ := startTime(os.Getpid())
	return fmt.Sprintf("%d %s\n", os.Getpid(), start)
}
