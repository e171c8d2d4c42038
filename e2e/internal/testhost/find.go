package testhost

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// PidsWithArg lists the processes one of whose arguments names path or a
// path below it, alone or as a flag's value (--root=PATH/x). path is one
// of the run's unique temporary directories, so the match names only
// processes the run started; it never matches by program name.
func PidsWithArg(path string) []int {
	return pidsWhere(func(pid string) bool {
		raw, err := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		return err == nil && NamesPath(strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00"), path)
	})
}

// NamesPath reports whether one of args is path, lies below it, or is a
// flag whose value is either.
func NamesPath(args []string, path string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		if _, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = value
		}
		return a == path || strings.HasPrefix(a, path+"/")
	})
}

// PidsInMountNamespace lists the processes whose mount namespace is ns
// (as readlink /proc/PID/ns/mnt prints it, "mnt:[4026532…]").
func PidsInMountNamespace(ns string) []int {
	return pidsWhere(func(pid string) bool {
		got, _ := os.Readlink(filepath.Join("/proc", pid, "ns/mnt"))
		return got == ns
	})
}

// pidsWhere lists the processes, other than this one, that match.
func pidsWhere(match func(pid string) bool) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err == nil && pid != os.Getpid() && match(ent.Name()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// KillAll sends SIGKILL to each process.
func KillAll(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// StartTime is a process's start time in clock ticks since boot (field
// 22 of /proc/PID/stat); with the PID it names one process across PID
// reuse.
func StartTime(pid int) (string, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	// The command name (field 2) may hold spaces; fields after it do not.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return "", false
	}
	return fields[19], true
}

// OwnerRecord is "PID STARTTIME" of this process, written into a run's
// root so a later run can tell whether its owner still runs.
func OwnerRecord() string {
	start, _ := StartTime(os.Getpid())
	return fmt.Sprintf("%d %s\n", os.Getpid(), start)
}

// OwnerAlive reads an OwnerRecord and reports whether that process still
// runs.
func OwnerAlive(owner string) bool {
	var pid int
	var start string
	if _, err := fmt.Sscan(owner, &pid, &start); err != nil {
		return false
	}
	now, ok := StartTime(pid)
	return ok && now == start
}
