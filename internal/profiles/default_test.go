package profiles

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/nri-guard/nri-guard/internal/profiles/seccompgen"
	data "github.com/nri-guard/nri-guard/profiles"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	tablePath = "../../profiles/seccomp/default.yaml"
	jsonPath  = "../../profiles/seccomp/default.json"
)

func readTable(t *testing.T) []byte {
	t.Helper()
	table, err := os.ReadFile(tablePath)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func defaultProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	p, err := DefaultSeccomp()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The committed JSON, and the copy embedded in the binary, must be what
// the table generates today.
func TestDefaultJSONIsUpToDate(t *testing.T) {
	p, err := seccompgen.Generate("default.yaml", readTable(t), Syscalls())
	if err != nil {
		t.Fatal(err)
	}
	want, err := seccompgen.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := data.FS.ReadFile("seccomp/default.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, want) || !bytes.Equal(embedded, want) {
		t.Fatal("profiles/seccomp/default.json is out of date with default.yaml: run go generate ./internal/profiles/")
	}
}

func TestDefaultIsAnEPERMAllowlist(t *testing.T) {
	p := defaultProfile(t)
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Fatalf("default action %s errno %v, want SCMP_ACT_ERRNO with EPERM", p.DefaultAction, p.DefaultErrnoRet)
	}
	for _, a := range []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM} {
		if !slices.Contains(p.Architectures, a) {
			t.Errorf("architecture %s missing", a)
		}
	}
}

// No denied call may appear in any rule: the default action is what
// refuses them, so a rule naming one (whatever its action) is a mistake.
func TestDefaultDeniesTheDeniedList(t *testing.T) {
	src, err := seccompgen.Parse(readTable(t))
	if err != nil {
		t.Fatal(err)
	}
	p := defaultProfile(t)
	denied := src.Denied()
	for _, name := range denied {
		for i, r := range p.Syscalls {
			if slices.Contains(r.Names, name) {
				t.Errorf("%s is denied in default.yaml but syscalls[%d] (%s) names it", name, i, r.Action)
			}
		}
	}
	mustDeny := []string{
		"mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "pivot_root",
		"unshare", "setns", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "ptrace",
		"process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
		"delete_module", "open_by_handle_at", "name_to_handle_at", "userfaultfd", "io_uring_setup", "io_uring_enter",
		"io_uring_register", "reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime",
		"adjtimex", "syslog", "quotactl", "lookup_dcookie", "nfsservctl", "uselib", "vm86", "vm86old", "iopl", "ioperm",
		"create_module", "get_kernel_syms", "query_module", "sysfs", "_sysctl", "ustat", "kcmp", "pidfd_getfd",
		"fanotify_init", "sethostname", "setdomainname",
	}
	for _, name := range mustDeny {
		if !slices.Contains(denied, name) {
			t.Errorf("%s must be in default.yaml's deny list", name)
		}
	}
	t.Logf("%d allowed without conditions, %d denied, %d rules", len(src.Allowed()), len(denied), len(p.Syscalls))
}

// A shell, a Go server and a database must keep running under the
// default profile.
func TestDefaultAllowsWhatProgramsNeed(t *testing.T) {
	p := defaultProfile(t)
	needs := map[string][]string{
		"shell": {"read", "write", "open", "openat", "close", "stat", "fstat", "newfstatat", "lstat", "statx", "execve",
			"exit_group", "wait4", "pipe", "pipe2", "dup2", "dup3", "fcntl", "ioctl", "getdents64", "chdir", "getcwd",
			"getpid", "getppid", "setpgid", "getpgrp", "setsid", "kill", "vfork", "fork", "uname", "umask",
			"mkdir", "rename", "unlink", "unlinkat", "mknodat", "readlink", "access", "faccessat2", "chmod", "fchmodat2",
			"utimensat", "getuid", "geteuid", "setuid", "setgroups", "sysinfo", "nanosleep", "clock_nanosleep",
			"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "poll", "select", "pselect6", "sync"},
		"go": {"futex", "mmap", "munmap", "mprotect", "madvise", "brk", "sigaltstack", "rt_sigaction", "rt_sigprocmask",
			"gettid", "tgkill", "getpid", "sched_yield", "sched_getaffinity", "nanosleep", "clock_gettime", "epoll_create1",
			"epoll_ctl", "epoll_pwait", "epoll_wait", "eventfd2", "pipe2", "arch_prctl", "set_tid_address",
			"set_robust_list", "rseq", "prlimit64", "getrlimit", "setrlimit", "getrandom", "readlinkat", "openat",
			"fcntl", "timer_create", "timer_settime", "timer_delete", "setitimer", "prctl", "uname", "waitid", "exit",
			"socket", "bind", "listen", "accept4", "connect", "setsockopt", "getsockopt", "getsockname", "getpeername",
			"recvfrom", "sendto", "recvmsg", "sendmsg", "shutdown", "sendfile", "splice", "copy_file_range",
			"pidfd_open", "pidfd_send_signal", "restart_syscall"},
		"database": {"fsync", "fdatasync", "syncfs", "sync_file_range", "pread64", "pwrite64", "preadv", "pwritev",
			"preadv2", "pwritev2", "lseek", "flock", "fallocate", "ftruncate", "fadvise64", "readahead",
			"io_setup", "io_submit", "io_getevents", "io_destroy", "io_cancel", "io_pgetevents", "memfd_create",
			"mremap", "msync", "mlock", "mlockall", "munlock", "mincore", "shmget", "shmat", "shmdt", "shmctl",
			"semget", "semop", "semctl", "semtimedop", "mbind", "set_mempolicy", "get_mempolicy",
			"sched_setaffinity", "setpriority", "ioprio_set", "inotify_init1", "inotify_add_watch",
			"renameat2", "linkat", "statfs", "fstatfs"},
	}
	for program, names := range needs {
		for _, name := range names {
			if got := verdict(p, name); got != specs.ActAllow {
				t.Errorf("%s needs %s: %s", program, name, got)
			}
		}
	}
}

// clone is allowed for threads and processes, not for new namespaces;
// clone3 answers ENOSYS (SCMP_ACT_TRACE with no tracer), so the C library
// falls back to clone.
func TestDefaultCloneRules(t *testing.T) {
	p := defaultProfile(t)
	const (
		cloneVM, cloneFS, cloneFiles, cloneSighand = 0x100, 0x200, 0x400, 0x800
		cloneSysvsem, cloneThread, clonePidfd      = 0x40000, 0x10000, 0x1000
		cloneVfork, sigchld                        = 0x4000, 17
		goThread                                   = cloneVM | cloneFS | cloneFiles | cloneSighand | cloneSysvsem | cloneThread
	)
	for _, flags := range []uint64{goThread, sigchld, cloneVM | cloneVfork | clonePidfd | sigchld} {
		if got := verdict(p, "clone", flags); got != specs.ActAllow {
			t.Errorf("clone(%#x) = %s, want allowed", flags, got)
		}
	}
	for _, ns := range []uint64{0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000} {
		if got := verdict(p, "clone", sigchld|ns); got == specs.ActAllow {
			t.Errorf("clone with namespace flag %#x allowed", ns)
		}
	}
	if got := verdict(p, "clone3"); got != specs.ActTrace {
		t.Errorf("clone3 = %s, want SCMP_ACT_TRACE (ENOSYS with no tracer)", got)
	}
}

func TestDefaultPersonalityRules(t *testing.T) {
	p := defaultProfile(t)
	for _, persona := range []uint64{0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		if got := verdict(p, "personality", persona); got != specs.ActAllow {
			t.Errorf("personality(%#x) = %s, want allowed", persona, got)
		}
	}
	// ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, and a foreign persona.
	for _, persona := range []uint64{0x0040000, 0x0400000, 0x0040008, 0x10} {
		if got := verdict(p, "personality", persona); got == specs.ActAllow {
			t.Errorf("personality(%#x) allowed", persona)
		}
	}
}

// README promises the built-in profile works on containerd 2.2.x, whose
// NRI crashes on a rule with its own errnoRet.
func TestDefaultHasNoRuleErrno(t *testing.T) {
	for i, r := range defaultProfile(t).Syscalls {
		if r.ErrnoRet != nil {
			t.Errorf("syscalls[%d] (%v) has errnoRet", i, r.Names)
		}
	}
}

// verdict evaluates the profile for one call the way its filter would,
// assuming (as holds for the default profile) that at most one rule
// matches: the first rule whose conditions all hold decides.
func verdict(p *specs.LinuxSeccomp, name string, args ...uint64) specs.LinuxSeccompAction {
	var argv [6]uint64
	copy(argv[:], args)
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, name) && conditionsHold(r.Args, argv) {
			return r.Action
		}
	}
	return p.DefaultAction
}

func conditionsHold(conds []specs.LinuxSeccompArg, argv [6]uint64) bool {
	for _, c := range conds {
		v := argv[c.Index]
		ok := map[specs.LinuxSeccompOperator]bool{
			specs.OpEqualTo: v == c.Value, specs.OpNotEqual: v != c.Value,
			specs.OpLessThan: v < c.Value, specs.OpLessEqual: v <= c.Value,
			specs.OpGreaterThan: v > c.Value, specs.OpGreaterEqual: v >= c.Value,
			specs.OpMaskedEqual: v&c.Value == c.ValueTwo,
		}[c.Op]
		if !ok {
			return false
		}
	}
	return true
}
