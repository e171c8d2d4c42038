package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/nri-guard/nri-guard/internal/readfile"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// EscapeGroup is a part of the minimum: system calls a profile must refuse
// before it counts as confining, and why.
type EscapeGroup struct {
	Names []string
	Why   string
}

// Minimum is the documented minimum set: the escape-critical calls the
// built-in profile (profiles/seccomp/default.yaml) refuses, each group
// taken from its deny list or its rules (a test holds the built-in to it).
// A Localhost or custom profile that lets any of them through leaves a
// route to the node's kernel open that the built-in closes, so a policy
// with seccomp.localhost: confining refuses it.
//
// clone and unshare count as refused when the profile allows them only
// without namespace flags (flagCalls): a thread or a process is fine, a
// new namespace is not. clone3 carries its flags in memory a filter
// cannot read, so any clone3 the profile allows counts as let through.
var Minimum = []EscapeGroup{
	{[]string{"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr", "pivot_root"},
		"mounting or re-attaching file systems: the first step of most mount escapes"},
	{[]string{"unshare", "setns", "clone", "clone3"},
		"new or joined namespaces (a user namespace gives every capability inside it and opens kernel code that otherwise needs host privileges)"},
	{[]string{"bpf"}, "eBPF programs run in the kernel; the verifier has a long record of escapes"},
	{[]string{"perf_event_open"}, "perf events leak kernel addresses and have been privilege-escalation paths"},
	{[]string{"keyctl", "add_key", "request_key"}, "the kernel keyrings are not namespaced"},
	{[]string{"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"},
		"reading or writing another process's memory, or taking its open files"},
	{[]string{"open_by_handle_at", "name_to_handle_at"}, "file handles open files outside the container's mount tree (the \"shocker\" escape)"},
	{[]string{"kexec_load", "kexec_file_load", "reboot"}, "replacing or restarting the node's kernel"},
	{[]string{"init_module", "finit_module", "delete_module"}, "loading a kernel module is running code in the kernel"},
	{[]string{"userfaultfd"}, "pausing the kernel mid-copy makes kernel races winnable"},
	{[]string{"io_uring_setup", "io_uring_enter", "io_uring_register"}, "io_uring performs operations seccomp never sees"},
	{[]string{"iopl", "ioperm", "swapon", "swapoff"}, "the node's hardware I/O ports and swap space"},
	{[]string{"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex"},
		"the system clock is the node's, not the container's"},
	{[]string{"syslog"}, "the kernel log leaks kernel addresses and other containers' messages"},
}

// MinimumNames is the minimum set as one sorted list (a copy).
func MinimumNames() []string { return slices.Clone(minimumNames()) }

var minimumNames = sync.OnceValue(func() []string {
	var out []string
	for _, g := range Minimum {
		out = append(out, g.Names...)
	}
	slices.Sort(out)
	return out
})

var minimumSet = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for _, name := range minimumNames() {
		set[name] = true
	}
	return set
})

// RuntimeDefaultGaps are the calls of the minimum that containerd's own
// RuntimeDefault profile lets through to a container without added
// capabilities (contrib/seccomp in 2.2 and 2.4: ptrace and process_vm_*
// on kernels from 4.8; name_to_handle_at, adjtimex and clock_adjtime
// always, which without CAP_SYS_TIME only read the clock). Where a
// filter's origin is unknown (the runtime wrapper and `check` read only
// config.json, in which RuntimeDefault and a Localhost profile look
// alike) these are not held against it: such a filter is then no weaker
// on the minimum than the runtime's default, which the policy accepts.
var RuntimeDefaultGaps = []string{"ptrace", "process_vm_readv", "process_vm_writev", "name_to_handle_at", "adjtimex", "clock_adjtime", "clock_adjtime64"}

// Namespace flags of clone(2) and unshare(2). CLONE_NEWTIME shares its
// bit with the exit signal in clone, so only unshare can ask for it.
const (
	cloneNamespaces   = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
	unshareNamespaces = cloneNamespaces | 0x00000080
)

// flagCalls take their namespace flags in argument 0 on every
// architecture of syscalls.txt (s390's clone swaps its first two, but
// nri-guard does not judge s390 nodes).
var flagCalls = map[string]uint64{"clone": cloneNamespaces, "unshare": unshareNamespaces}

// Leak is one call of the minimum a filter lets through.
type Leak struct {
	Name string
	// Arch is the architecture (as syscalls.txt spells it) it gets through on.
	Arch string
	// By says what lets it through: the default action or a rule.
	By string
}

func (l Leak) String() string { return l.Name + " (" + l.By + ")" }

// NativeArch is the node's architecture as syscalls.txt spells it.
func NativeArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "x86"
	}
	return runtime.GOARCH
}

// compatArches are the other architectures a node's kernel runs binaries
// of: a filter that lists one filters those calls too, one it does not
// list kills them (the runtime's "bad architecture" action).
var compatArches = map[string][]string{"x86_64": {"x86", "x32"}, "aarch64": {"arm"}}

var ociArch = map[string]specs.Arch{
	"x86_64": specs.ArchX86_64, "x86": specs.ArchX86, "x32": specs.ArchX32,
	"aarch64": specs.ArchAARCH64, "arm": specs.ArchARM,
}

// Judge returns the calls of the minimum set the filter lets through on a
// node of architecture native (NativeArch()), one per call, on the first
// architecture it gets through on. A nil filter lets everything through.
//
// It errs on the side of "let through": a call is refused only when the
// filter refuses every way of making it. SCMP_ACT_ALLOW, SCMP_ACT_LOG, an
// unknown action and SCMP_ACT_NOTIFY (an agent outside the kernel
// answers, and may let it run) let a call through; SCMP_ACT_ERRNO (with
// any errnoRet: the call is not run), SCMP_ACT_KILL* and SCMP_ACT_TRAP
// refuse it; SCMP_ACT_TRACE refuses it only when the filter also refuses
// ptrace (then nothing in the container can be the tracer, and with no
// tracer the kernel answers ENOSYS). A rule with conditions that refuses
// leaves the other arguments to the default action; a rule with
// conditions that allows lets the call through unless its conditions
// keep every namespace flag clear (clone, unshare).
func Judge(p *specs.LinuxSeccomp, native string) []Leak {
	arches := []string{native}
	if p != nil {
		for _, a := range compatArches[native] {
			if slices.Contains(p.Architectures, ociArch[a]) {
				arches = append(arches, a)
			}
		}
	}
	f := newFilter(p)
	table := syscallTable()
	var out []Leak
	for _, name := range minimumNames() {
		// Rules name calls, not numbers: the answer is the same on every
		// architecture that has the call.
		arch := ""
		for _, a := range arches {
			if slices.Contains(table[name], a) {
				arch = a
				break
			}
		}
		if arch == "" {
			continue // no such call there: nothing to make
		}
		if by, leaks := f.letThrough(name, false); leaks {
			out = append(out, Leak{Name: name, Arch: arch, By: by})
		}
	}
	return out
}

// filter is a profile indexed by call name, for Judge.
type filter struct {
	p      *specs.LinuxSeccomp
	byName map[string][]int // call of the minimum → rules naming it, in order
	// ptrace is whether ptrace gets through: decided once, on first need.
	ptrace, ptraceKnown bool
}

func newFilter(p *specs.LinuxSeccomp) *filter {
	f := &filter{p: p, byName: map[string][]int{}}
	if p == nil {
		return f
	}
	in := minimumSet()
	for i, r := range p.Syscalls {
		for _, name := range r.Names {
			if in[name] {
				f.byName[name] = append(f.byName[name], i)
			}
		}
	}
	return f
}

// letThrough says whether the filter lets some invocation of name run,
// and what does. traceRuns counts SCMP_ACT_TRACE as letting calls run:
// that is how ptrace itself is judged, so the two cannot recurse.
func (f *filter) letThrough(name string, traceRuns bool) (string, bool) {
	p := f.p
	if p == nil {
		return "no filter", true
	}
	refused := false
	for _, i := range f.byName[name] {
		r := p.Syscalls[i]
		switch {
		case f.permits(r.Action, traceRuns):
			if !keepsFlagsClear(name, r.Args) {
				return fmt.Sprintf("syscalls[%d] %s", i, r.Action) + conditions(r.Args), true
			}
		case alwaysHolds(r.Args):
			refused = true
		}
	}
	if refused || !f.permits(p.DefaultAction, traceRuns) {
		return "", false
	}
	return "default action " + string(p.DefaultAction), true
}

// permits says whether an action can let a call run.
func (f *filter) permits(a specs.LinuxSeccompAction, traceRuns bool) bool {
	switch a {
	case specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap:
		return false
	case specs.ActTrace:
		if traceRuns {
			return true
		}
		if !f.ptraceKnown {
			_, f.ptrace = f.letThrough("ptrace", true)
			f.ptraceKnown = true
		}
		return f.ptrace
	}
	return true
}

// keepsFlagsClear says whether a rule's conditions, all of which must
// hold, forbid every namespace flag of a flag call.
func keepsFlagsClear(name string, args []specs.LinuxSeccompArg) bool {
	ns, ok := flagCalls[name]
	if !ok {
		return false
	}
	clears := func(a specs.LinuxSeccompArg) bool {
		switch {
		case a.Index != 0:
			return false
		case a.Op == specs.OpMaskedEqual: // (flags & Value) == ValueTwo
			return a.Value&ns == ns && a.ValueTwo&ns == 0
		case a.Op == specs.OpEqualTo:
			return a.Value&ns == 0
		}
		return false
	}
	// runc hands libseccomp a rule whose conditions name one argument
	// twice as one rule per condition, which allow the call when any
	// holds (OR): then every condition must keep the flags clear by
	// itself (red team: "mask clear" beside "arg0 & 0 == 0" let unshare
	// through with any flags). Otherwise the conditions all hold
	// together (AND), and one that keeps the flags clear is enough.
	if repeatsAnArgument(args) {
		return !slices.ContainsFunc(args, func(a specs.LinuxSeccompArg) bool { return !clears(a) })
	}
	return slices.ContainsFunc(args, clears)
}

func repeatsAnArgument(args []specs.LinuxSeccompArg) bool {
	seen := map[uint]bool{}
	for _, a := range args {
		if seen[a.Index] {
			return true
		}
		seen[a.Index] = true
	}
	return false
}

// alwaysHolds says whether conditions hold for every argument: only then
// does a refusing rule with them refuse the call outright.
func alwaysHolds(args []specs.LinuxSeccompArg) bool {
	for _, a := range args {
		switch {
		case a.Op == specs.OpMaskedEqual && a.Value == 0 && a.ValueTwo == 0:
		case a.Op == specs.OpGreaterEqual && a.Value == 0:
		case a.Op == specs.OpLessEqual && a.Value == ^uint64(0):
		default:
			return false
		}
	}
	return true
}

func conditions(args []specs.LinuxSeccompArg) string {
	if len(args) == 0 {
		return ""
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("arg%d %s %#x", a.Index, strings.TrimPrefix(string(a.Op), "SCMP_CMP_"), a.Value)
		if a.Op == specs.OpMaskedEqual {
			parts[i] += fmt.Sprintf("=%#x", a.ValueTwo)
		}
	}
	return " if " + strings.Join(parts, ", ")
}

// LeakNames is the names of leaks, without those in skip.
func LeakNames(leaks []Leak, skip []string) []string {
	var out []string
	for _, l := range leaks {
		if !slices.Contains(skip, l.Name) {
			out = append(out, l.Name)
		}
	}
	return out
}

// Digest names a filter for seccomp.allowProfiles: "sha256:" and the hex
// SHA-256 of its JSON as Go's encoding/json writes a runtime-spec
// LinuxSeccomp (fields in the spec's order, no spaces, empty lists and
// unset fields left out). containerd decodes a Localhost file into that
// type and writes it so into config.json, and NRI's copy converts back to
// it unchanged, so the file, the NRI view and the spec give one digest;
// `nri-guard seccomp digest FILE` prints it.
func Digest(p *specs.LinuxSeccomp) string {
	if p == nil {
		return ""
	}
	raw, err := json.Marshal(p)
	if err != nil { // a LinuxSeccomp has no type json cannot write
		return ""
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DecodeAsRuntime decodes a profile file the way containerd does for a
// Localhost profile (encoding/json into a LinuxSeccomp, without
// ParseSeccomp's strictness), so what is judged is what the runtime
// installs.
func DecodeAsRuntime(raw []byte) (*specs.LinuxSeccomp, error) {
	var p specs.LinuxSeccomp
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// maxProfileSize bounds a Localhost profile read from the node; the
// built-in is about 20 kB.
const maxProfileSize = 4 << 20

// LoadLocalhost reads the filter of a Localhost profile as containerd
// does: the ref without a "localhost/" prefix is the file's path (kubelet
// passes an absolute one, below its seccomp root), decoded by
// DecodeAsRuntime. A relative ref would be relative to containerd's
// working directory, which nri-guard cannot know, so it is an error.
func LoadLocalhost(ref string) (*specs.LinuxSeccomp, error) {
	path := strings.TrimPrefix(ref, "localhost/")
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("Localhost profile %q is not an absolute path, so nri-guard cannot tell which file the runtime read", ref)
	}
	raw, err := readfile.Bounded(path, maxProfileSize)
	switch {
	case errors.Is(err, readfile.ErrTooLarge):
		return nil, fmt.Errorf("Localhost profile %s is over %d bytes", path, maxProfileSize)
	case err != nil:
		return nil, fmt.Errorf("reading Localhost profile: %w", err)
	}
	p, err := DecodeAsRuntime(raw)
	if err != nil {
		return nil, fmt.Errorf("decoding Localhost profile %s: %w", path, err)
	}
	return p, nil
}
