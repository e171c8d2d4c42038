//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process of the test whose exit can be waited for with
// a deadline.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc starts cmd. Pdeathsig makes the kernel kill it if the test
// binary dies without cleaning up (SIGKILL). Its own process group keeps
// a terminal's Ctrl-C away from it: containerd must still be serving when
// the interrupted test removes the pods.
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

// stop sends sig, waits up to grace, then kills. It reports whether the
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

// pidsWithArg lists processes one of whose arguments is arg or lies
// below it (arg is one of this run's unique temporary paths, so the match
// names only processes this run started). It never matches by name.
func pidsWithArg(arg string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if slices.ContainsFunc(args, func(a string) bool { return a == arg || strings.HasPrefix(a, arg+"/") }) {
			out = append(out, pid)
		}
	}
	return out
}

// startTime is a process's start time in clock ticks since boot (field 22
// of /proc/PID/stat); with the PID it identifies a process across PID
// reuse.
func startTime(pid int) (string, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return "", false
	}
	return fields[19], true
}

func killAll(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// pollUntil calls ok every 50ms until it returns true or limit passes.
func pollUntil(limit time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
