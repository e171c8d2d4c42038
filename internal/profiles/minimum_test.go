package profiles

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/profiles/seccompgen"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func loadMinimumCase(t *testing.T, name string) *specs.LinuxSeccomp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "minimum", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseSeccomp(name, raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func leakNames(leaks []Leak) []string {
	out := LeakNames(leaks, nil)
	slices.Sort(out)
	return out
}

// Every call of the minimum is one the built-in refuses: denied in
// default.yaml (so no rule names it), or, for clone and clone3, refused
// by its rules. And judged as a filter, the built-in lets none through
// on any node architecture.
func TestMinimumIsWhatTheBuiltInRefuses(t *testing.T) {
	src, err := seccompgen.Parse(readTable(t))
	if err != nil {
		t.Fatal(err)
	}
	denied := src.Denied()
	for _, name := range MinimumNames() {
		if !IsKnownSyscall(name) {
			t.Errorf("%s is not a known system call", name)
		}
		if !slices.Contains(denied, name) && name != "clone" && name != "clone3" {
			t.Errorf("%s is in the minimum but not in default.yaml's deny list", name)
		}
	}
	for _, arch := range []string{"x86_64", "aarch64"} {
		if leaks := Judge(defaultProfile(t), arch); len(leaks) != 0 {
			t.Errorf("on %s the built-in lets through %v", arch, leaks)
		}
	}
	for _, want := range []string{"mount", "unshare", "setns", "clone", "clone3", "bpf", "perf_event_open", "keyctl",
		"add_key", "request_key", "ptrace", "process_vm_readv", "process_vm_writev", "open_by_handle_at",
		"name_to_handle_at", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
		"userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "fsopen", "fsmount", "fsconfig",
		"move_mount", "open_tree", "fspick", "mount_setattr", "pivot_root", "umount2"} {
		if !slices.Contains(MinimumNames(), want) {
			t.Errorf("%s missing from the minimum", want)
		}
	}
}

func TestRuntimeDefaultGapsAreInTheMinimum(t *testing.T) {
	for _, name := range RuntimeDefaultGaps {
		if !slices.Contains(MinimumNames(), name) {
			t.Errorf("%s is not in the minimum", name)
		}
	}
}

func TestJudge(t *testing.T) {
	all := MinimumNames()
	onX86_64 := slices.DeleteFunc(slices.Clone(all), func(n string) bool {
		return !slices.Contains(Syscalls()[n], "x86_64")
	})
	cases := []struct {
		file, arch string
		want       []string // nil: refuses the whole set
	}{
		// The attack: allows by default, denies a dozen unrelated calls.
		// It lists the compat architectures, so their calls leak too.
		{"allow-by-default.json", "x86_64", all[:0:0]},
		{"runtime-default-like.json", "x86_64", []string{"name_to_handle_at", "process_vm_readv", "process_vm_writev", "ptrace"}},
		// Benign: an allowlist with clone and unshare only without
		// namespace flags, clone3 traced (ptrace trapped), kill, trap and
		// errno 0 refusals.
		{"confining.json", "x86_64", nil},
		{"confining.json", "aarch64", nil},
		{"clone-any-flags.json", "x86_64", []string{"clone", "unshare"}},
		// Conditions that name one argument twice are ORed by runc: a
		// "flags clear" mask beside one that always holds, or beside two
		// on another argument, lets any flags through (red team).
		{"same-argument-or.json", "x86_64", []string{"clone", "unshare"}},
		// NOTIFY and LOG let through; TRACE does when ptrace runs.
		{"notify-and-trace.json", "x86_64", []string{"bpf", "clone3", "mount", "ptrace"}},
		// A refusal with conditions leaves the other arguments to the
		// default; one whose conditions always hold refuses outright.
		{"conditional-deny.json", "x86_64", slices.DeleteFunc(slices.Clone(onX86_64), func(n string) bool { return n == "umount2" })},
		// Calls only 32-bit binaries have count where the filter lists
		// their architecture (the node runs them), not where it does not
		// (the runtime kills any call of an unlisted architecture).
		{"compat-arch.json", "x86_64", []string{"clock_settime64", "stime"}},
		{"compat-arch.json", "aarch64", []string{"clock_settime64"}},
		// The node's own architecture is filtered whether listed or not.
		{"runtime-default-like.json", "aarch64", []string{"name_to_handle_at", "process_vm_readv", "process_vm_writev", "ptrace"}},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.arch, func(t *testing.T) {
			got := Judge(loadMinimumCase(t, c.file), c.arch)
			want := c.want
			if want != nil && len(want) == 0 {
				want = all
			}
			if !slices.Equal(leakNames(got), want) {
				t.Errorf("leaks %v\nwant %v", leakNames(got), want)
			}
		})
	}
}

func TestJudgeNamesWhatLetsThrough(t *testing.T) {
	got := Judge(loadMinimumCase(t, "clone-any-flags.json"), "x86_64")
	var texts []string
	for _, l := range got {
		texts = append(texts, l.String())
	}
	want := "clone (syscalls[1] SCMP_ACT_ALLOW if arg0 MASKED_EQ 0x10000000=0x0), unshare (syscalls[2] SCMP_ACT_ALLOW if arg1 EQ 0x0)"
	if s := strings.Join(texts, ", "); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	if l := Judge(nil, "x86_64"); len(l) != len(onArch("x86_64")) || l[0].By != "no filter" {
		t.Errorf("nil filter: %v", l)
	}
	if l := Judge(loadMinimumCase(t, "allow-by-default.json"), "x86_64"); l[0].By != "default action SCMP_ACT_ALLOW" {
		t.Errorf("allow by default: %v", l[0])
	}
}

func onArch(arch string) []string {
	return slices.DeleteFunc(MinimumNames(), func(n string) bool { return !slices.Contains(Syscalls()[n], arch) })
}

// The digest of a file is that of the filter containerd decodes from it
// (field order and spacing do not matter, the content does), and
// DecodeAsRuntime reads what ParseSeccomp reads.
func TestDigest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "minimum", "runtime-default-like.json"))
	if err != nil {
		t.Fatal(err)
	}
	lax, err := DecodeAsRuntime(raw)
	if err != nil {
		t.Fatal(err)
	}
	strict := loadMinimumCase(t, "runtime-default-like.json")
	if Digest(lax) != Digest(strict) || !strings.HasPrefix(Digest(lax), "sha256:") || len(Digest(lax)) != 71 {
		t.Fatalf("digests %s %s", Digest(lax), Digest(strict))
	}
	reordered := strings.Replace(string(raw), `"defaultAction": "SCMP_ACT_ERRNO",`, "", 1)
	reordered = strings.Replace(reordered, `"syscalls": [`, `"defaultAction":"SCMP_ACT_ERRNO", "syscalls": [`, 1)
	again, err := DecodeAsRuntime([]byte(reordered))
	if err != nil || Digest(again) != Digest(lax) {
		t.Fatalf("reordered: %v %s", err, Digest(again))
	}
	lax.Syscalls[0].Names = append(lax.Syscalls[0].Names, "mount")
	if Digest(lax) == Digest(strict) {
		t.Fatal("a changed filter kept its digest")
	}
	if Digest(nil) != "" {
		t.Fatal("nil filter has a digest")
	}
}

// FuzzJudge: no filter the runtime would decode panics the judge, a
// digest survives a round trip through the spec's JSON, and allowing
// more never makes a filter leak less.
func FuzzJudge(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "minimum", "*.json"))
	for _, file := range append(files, jsonPath) {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := DecodeAsRuntime(raw)
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeAsRuntime(again)
		if err != nil || Digest(q) != Digest(p) {
			t.Fatalf("digest changed over a round trip: %v", err)
		}
		for _, arch := range []string{"x86_64", "aarch64"} {
			leaks := leakNames(Judge(p, arch))
			looser := *p
			looser.DefaultAction = specs.ActAllow
			for _, name := range leaks {
				if !slices.Contains(leakNames(Judge(&looser, arch)), name) {
					t.Fatalf("%s leaks under %s but not once the default allows", name, p.DefaultAction)
				}
			}
		}
	})
}

// BenchmarkJudgeRuntimeDefaultShape is what the runtime wrapper adds per
// create under localhost: confining: the digest and the judgement of a
// filter of unknown origin.
func BenchmarkJudgeRuntimeDefaultShape(b *testing.B) {
	p, err := DefaultSeccomp()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = Digest(p)
		_ = Judge(p, "x86_64")
	}
}

func BenchmarkDigest(b *testing.B) {
	p, err := DefaultSeccomp()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = Digest(p)
	}
}
