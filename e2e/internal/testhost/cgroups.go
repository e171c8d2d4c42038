package testhost

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CgroupMounts lists the mount points of every cgroup hierarchy (v1
// controllers and the v2 unified one).
func CgroupMounts() []string {
	var out []string
	for _, line := range mountinfo() {
		pre, post, ok := strings.Cut(line, " - ")
		fields, postFields := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) > 4 && len(postFields) > 0 && strings.HasPrefix(postFields[0], "cgroup") {
			out = append(out, fields[4])
		}
	}
	return out
}

// cgroupDirs lists a cgroup subtree in every hierarchy, deepest first,
// so they can be removed in order.
func cgroupDirs(parent string) []string {
	var dirs []string
	for _, m := range CgroupMounts() {
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

// CgroupPids lists the processes left in a cgroup subtree.
func CgroupPids(parent string) []int {
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

// RemoveCgroups removes a cgroup subtree; a cgroup whose last process
// was just killed can stay busy for a moment, hence the retries.
func RemoveCgroups(parent string) error {
	var err error
	PollUntil(5*time.Second, 50*time.Millisecond, func() bool {
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

// MountsUnder lists the mount points at or below dir as this process
// sees them, deepest first.
func MountsUnder(dir string) []string {
	var out []string
	for _, line := range mountinfo() {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	slices.Reverse(out)
	return out
}

func mountinfo() []string {
	raw, _ := os.ReadFile("/proc/self/mountinfo")
	return strings.Split(string(raw), "\n")
}
