//go:build e2e_cluster

package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one daemon of the bed, started by this test binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc starts cmd. Pdeathsig (kept across exec) makes the kernel
// kill it if the test binary dies without tearing down; its own process
// group keeps a terminal's Ctrl-C away, so the daemons still serve while
// an interrupted run removes the pods.
func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to grace, then kills; it reports whether the
// process had to be killed.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) (killed bool) {
	if p == nil || p.exited() {
		return false
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	<-p.done
	return true
}

// waitLine reads r until a line equal to want, for at most limit.
func waitLine(r io.Reader, want string, limit time.Duration) error {
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == want {
				found <- nil
				io.Copy(io.Discard, r)
				return
			}
		}
		found <- fmt.Errorf("output ended before %q", want)
	}()
	select {
	case err := <-found:
		return err
	case <-time.After(limit):
		return fmt.Errorf("no %q within %s", want, limit)
	}
}

// pollUntil calls ok every 250 ms until it holds or limit passes.
func pollUntil(limit time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// run runs a command and returns its stdout; the error carries stderr.
func run(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// startTime is a process's start time in clock ticks since boot (field
// 22 of /proc/PID/stat): with the pid, it names one process for good.
func startTime(pid int) (string, bool) {
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
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", false
	}
	return f[19], true
}

func ownerRecord() string {
	start, _ := startTime(os.Getpid())
	return fmt.Sprintf("%d %s\n", os.Getpid(), start)
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

// pidsInMountNamespace lists the processes whose mount namespace is ns
// (the form of readlink /proc/PID/ns/mnt, "mnt:[4026532…]").
func pidsInMountNamespace(ns string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if got, _ := os.Readlink(filepath.Join("/proc", ent.Name(), "ns/mnt")); got == ns {
			pids = append(pids, pid)
		}
	}
	return pids
}

// pidsWithArg lists processes with an argument that contains s (the
// bed's root: every daemon names it in its flags).
func pidsWithArg(s string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(readFile(filepath.Join("/proc", ent.Name(), "cmdline")), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killAll(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
