package testhost

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Proc is a daemon started by the test binary whose exit can be waited
// for with a deadline.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Err  error // what Wait returned, once Exited
	done chan struct{}
}

// Start starts cmd. Pdeathsig (kept across exec) makes the kernel kill
// it if the test binary dies without tearing down. Its own process group
// keeps a terminal's Ctrl-C away from it: the daemons must still serve
// while an interrupted run removes its pods.
func Start(name string, cmd *exec.Cmd) (*Proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.Err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's ID.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends sig, waits up to grace, then kills. It reports whether the
// process had to be killed.
func (p *Proc) Stop(sig syscall.Signal, grace time.Duration) (killed bool) {
	if p == nil || p.Exited() {
		return false
	}
	p.Cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
	}
	p.Cmd.Process.Kill()
	<-p.done
	return true
}

// WaitLine reads r until a line equal to want, for at most limit; the
// rest of r is drained so the writer never blocks.
func WaitLine(r io.Reader, want string, limit time.Duration) error {
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

// PollUntil calls ok every interval until it holds or limit passes.
func PollUntil(limit, interval time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}
