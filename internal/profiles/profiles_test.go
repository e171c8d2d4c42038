package profiles

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/profiles/seccompgen"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gopkg.in/yaml.v3"
)

func TestDefaultJSONIsGeneratedFromItsTable(t *testing.T) {
	table, err := os.ReadFile("../../profiles/seccomp/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := seccompgen.Generate(table, KnownSyscalls())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := seccompgen.Marshal(p)
	have, err := os.ReadFile("../../profiles/seccomp/default.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, have) {
		t.Fatal("profiles/seccomp/default.json is out of date: run go generate ./internal/profiles/")
	}
}

// allowedPlainly reports whether the profile allows name without any
// argument condition.
func allowedPlainly(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) == 0 && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

func TestDefaultDeniesTheEscapeSyscalls(t *testing.T) {
	p, err := DefaultSeccomp()
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != specs.ActErrno {
		t.Fatalf("default action %s, want an allowlist", p.DefaultAction)
	}
	table, _ := os.ReadFile("../../profiles/seccomp/default.yaml")
	var src seccompgen.Source
	if err := yaml.Unmarshal(table, &src); err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, d := range src.Deny {
		for _, name := range d.Names {
			denied++
			for _, r := range p.Syscalls {
				if slices.Contains(r.Names, name) {
					t.Errorf("%s is denied in the table but appears in a rule (%s)", name, r.Action)
				}
			}
		}
	}
	for _, name := range []string{"mount", "unshare", "setns", "bpf", "keyctl", "ptrace", "open_by_handle_at", "io_uring_setup", "userfaultfd", "init_module", "kexec_load", "perf_event_open"} {
		if allowedPlainly(p, name) {
			t.Errorf("%s must be denied", name)
		}
	}
	if allowedPlainly(p, "clone") || allowedPlainly(p, "clone3") {
		t.Error("clone must only be allowed without namespace flags, clone3 not at all")
	}
	t.Logf("%d known system calls, %d denied outright, %d rules", len(KnownSyscalls()), denied, len(p.Syscalls))
}

func TestDefaultAllowsWhatProgramsNeed(t *testing.T) {
	p, err := DefaultSeccomp()
	if err != nil {
		t.Fatal(err)
	}
	// A shell, a Go server and a database-like workload.
	for _, name := range []string{
		"read", "write", "openat", "close", "fstat", "newfstatat", "execve", "exit_group", "wait4", "pipe2", "dup3", "fcntl",
		"mmap", "munmap", "mprotect", "madvise", "brk", "futex", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
		"sched_yield", "nanosleep", "clock_gettime", "gettid", "tgkill", "epoll_create1", "epoll_ctl", "epoll_pwait",
		"socket", "bind", "listen", "accept4", "connect", "setsockopt", "getrandom",
		"fsync", "fdatasync", "pread64", "pwrite64", "flock", "fallocate", "io_setup", "io_submit", "io_getevents", "memfd_create",
		"chdir", "getcwd", "uname", "prctl", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
	} {
		if !allowedPlainly(p, name) {
			t.Errorf("%s must be allowed", name)
		}
	}
}

func TestParseSeccompErrors(t *testing.T) {
	cases := map[string]string{
		"{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"write\", \"mountt\"], \"action\": \"SCMP_ACT_ALLOW\"}]\n}": "p.json: syscalls[1].names[1]: unknown syscall \"mountt\"",
		`{"defaultAction": "SCMP_ACT_ERRNO", "bogus": 1}`:                  `p.json: json: unknown field "bogus"`,
		"{\n \"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [}\n}": "p.json:3:15: invalid character '}'",
		`{}`:                                 "p.json: defaultAction: missing",
		`{"defaultAction": "SCMP_ACT_NOPE"}`: `defaultAction: unknown action "SCMP_ACT_NOPE"`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]}`:                                                                                     `architectures[0]: unknown architecture "SCMP_ARCH_Z80"`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}`:                                                                "syscalls[0].names: empty",
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["read"], "action": "SCMP_ACT_LOG"}]}`:           `syscalls[1]: "read" with the same arguments is already in syscalls[0]`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`: "syscalls[0].args[0].index: 6",
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}`:          `syscalls[0].args[0].op: unknown operator "EQ"`,
		`{"defaultAction": "SCMP_ACT_ERRNO"} {}`: "more than one JSON value",
	}
	for doc, want := range cases {
		_, err := ParseSeccomp("p.json", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSeccomp(%s)\n got: %v\nwant: %s", doc, err, want)
		}
	}
	ok := `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`
	if _, err := ParseSeccomp("p.json", []byte(ok)); err != nil {
		t.Errorf("the same syscall with other arguments is fine: %v", err)
	}
}

func TestGeneratorRejectsBadTables(t *testing.T) {
	for table, want := range map[string]string{
		"deny:\n  - names: [mount]\n":                                    "has no reason",
		"deny:\n  - names: [mountt]\n    why: typo\n":                    `unknown system call "mountt"`,
		"defaultAction: SCMP_ACT_ERRNO\nbogus: 1\n":                      "field bogus not found",
		"conditional:\n  - names: [clone]\n    action: SCMP_ACT_ALLOW\n": "has no reason",
	} {
		if _, err := seccompgen.Generate([]byte(table), KnownSyscalls()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Generate(%q) = %v, want %q", table, err, want)
		}
	}
}

// FuzzParseSeccomp: no input panics the profile parser.
func FuzzParseSeccomp(f *testing.F) {
	def, err := os.ReadFile("../../profiles/seccomp/default.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParseSeccomp("fuzz.json", raw)
		if err == nil && p.DefaultAction == "" {
			t.Fatal("accepted a profile without a default action")
		}
	})
}
