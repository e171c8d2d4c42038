// Command sysprobe runs inside an e2e container to show what the node's
// default seccomp profile lets through.
//
//	sysprobe escapes   calls each escape system call with arguments the
//	                   kernel rejects without side effects, and prints
//	                   "name errno" per call (errno 0: it succeeded)
//	sysprobe serve     a Go HTTP server and client on loopback, plus a
//	                   child process: prints "served ok" when all worked
//	sysprobe db DIR    a database-like file workload in DIR (create,
//	                   pwrite, fsync, fdatasync, shared mmap + msync, flock,
//	                   fallocate, rename): prints "db ok"
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: sysprobe escapes|serve|db DIR"))
	}
	var err error
	switch os.Args[1] {
	case "escapes":
		escapes()
	case "serve":
		err = serve()
	case "db":
		if len(os.Args) < 3 {
			err = fmt.Errorf("db needs a directory")
		} else {
			err = db(os.Args[2])
		}
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sysprobe:", err)
	os.Exit(1)
}

// escapeCalls are invalid or no-op invocations: unconfined, the kernel
// answers EINVAL, EFAULT, EBADF, ESRCH or succeeds (unshare of nothing);
// under the profile every one is EPERM before the kernel looks.
var escapeCalls = []struct {
	name string
	nr   uintptr
	args [6]uintptr
}{
	{"mount", unix.SYS_MOUNT, [6]uintptr{}},
	{"umount2", unix.SYS_UMOUNT2, [6]uintptr{}},
	{"pivot_root", unix.SYS_PIVOT_ROOT, [6]uintptr{}},
	{"fsopen", unix.SYS_FSOPEN, [6]uintptr{}},
	{"open_tree", unix.SYS_OPEN_TREE, [6]uintptr{^uintptr(0)}},
	{"unshare", unix.SYS_UNSHARE, [6]uintptr{0}},
	{"setns", unix.SYS_SETNS, [6]uintptr{^uintptr(0), 0}},
	{"bpf", unix.SYS_BPF, [6]uintptr{^uintptr(0)}},
	{"perf_event_open", unix.SYS_PERF_EVENT_OPEN, [6]uintptr{}},
	{"keyctl", unix.SYS_KEYCTL, [6]uintptr{^uintptr(0)}},
	{"add_key", unix.SYS_ADD_KEY, [6]uintptr{}},
	{"request_key", unix.SYS_REQUEST_KEY, [6]uintptr{}},
	{"ptrace", unix.SYS_PTRACE, [6]uintptr{unix.PTRACE_PEEKDATA, 0}},
	{"process_vm_readv", unix.SYS_PROCESS_VM_READV, [6]uintptr{0}},
	{"kcmp", unix.SYS_KCMP, [6]uintptr{0}},
	{"kexec_load", unix.SYS_KEXEC_LOAD, [6]uintptr{}},
	{"init_module", unix.SYS_INIT_MODULE, [6]uintptr{}},
	{"finit_module", unix.SYS_FINIT_MODULE, [6]uintptr{^uintptr(0)}},
	{"delete_module", unix.SYS_DELETE_MODULE, [6]uintptr{}},
	{"open_by_handle_at", unix.SYS_OPEN_BY_HANDLE_AT, [6]uintptr{^uintptr(0)}},
	{"name_to_handle_at", unix.SYS_NAME_TO_HANDLE_AT, [6]uintptr{^uintptr(0)}},
	{"userfaultfd", unix.SYS_USERFAULTFD, [6]uintptr{^uintptr(0)}},
	{"io_uring_setup", unix.SYS_IO_URING_SETUP, [6]uintptr{}},
	{"swapon", unix.SYS_SWAPON, [6]uintptr{}},
	{"reboot", unix.SYS_REBOOT, [6]uintptr{}},
	{"syslog", unix.SYS_SYSLOG, [6]uintptr{^uintptr(0)}},
	{"clock_settime", unix.SYS_CLOCK_SETTIME, [6]uintptr{^uintptr(0)}},
}

func escapes() {
	for _, c := range escapeCalls {
		_, _, errno := syscall.Syscall6(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5])
		fmt.Printf("%s %d\n", c.name, int(errno))
	}
}

func serve() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "ok" {
		return fmt.Errorf("served %q: %v", body, err)
	}
	if err := exec.Command("/bin/true").Run(); err != nil {
		return fmt.Errorf("child process: %w", err)
	}
	fmt.Println("served ok")
	return nil
}

func db(dir string) error {
	path := filepath.Join(dir, "table.db")
	f, err := os.OpenFile(path+".new", os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	steps := []struct {
		name string
		run  func() error
	}{
		{"flock", func() error { return unix.Flock(fd, unix.LOCK_EX) }},
		{"fallocate", func() error { return unix.Fallocate(fd, 0, 0, 1<<16) }},
		{"pwrite", func() error { _, err := unix.Pwrite(fd, []byte("row 1\n"), 4096); return err }},
		{"fdatasync", func() error { return unix.Fdatasync(fd) }},
		{"mmap", func() error {
			m, err := unix.Mmap(fd, 0, 1<<16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				return err
			}
			copy(m, "header")
			if err := unix.Msync(m, unix.MS_SYNC); err != nil {
				return err
			}
			return unix.Munmap(m)
		}},
		{"fsync", f.Sync},
		{"rename", func() error { return os.Rename(path+".new", path) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	fmt.Println("db ok")
	return nil
}
