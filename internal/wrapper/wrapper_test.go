package wrapper

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/record"
	"github.com/nri-guard/nri-guard/internal/tally"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseInvocation(t *testing.T) {
	// The shape containerd's shim uses (go-runc).
	inv := parseInvocation(strings.Fields("--root /run/containerd/runc/k8s.io --log /b/log.json --log-format json --systemd-cgroup create --bundle /b --pid-file /b/init.pid --console-socket /tmp/s abc123"))
	if inv.verb != "create" || inv.local("bundle", "b") != "/b" || inv.global("log") != "/b/log.json" || inv.global("root") != "/run/containerd/runc/k8s.io" || inv.containerID() != "abc123" || inv.doubt() != "" {
		t.Fatalf("%+v (doubt %q)", inv, inv.doubt())
	}
	inv = parseInvocation(strings.Fields("--log=/l exec --process /p.json -d abc"))
	if inv.verb != "exec" || inv.local("process", "p") != "/p.json" || inv.global("log") != "/l" || inv.containerID() != "abc" || inv.doubt() != "" {
		t.Fatalf("%+v", inv)
	}
	if inv := parseInvocation([]string{"--version"}); inv.verb != "" || inv.containerID() != "" {
		t.Fatalf("%+v", inv)
	}
	// Go's flag package, which runc's CLI reads flags with, takes -root
	// as --root and keeps a flag's last value.
	inv = parseInvocation(strings.Fields("-root /r -log=/l create -bundle /x abc"))
	if inv.verb != "create" || inv.global("root") != "/r" || inv.global("log") != "/l" || inv.local("bundle", "b") != "/x" || inv.doubt() != "" {
		t.Fatalf("single-dash flags: %+v", inv)
	}
}

// A command line runc could read otherwise than the wrapper is refused
// before anything is judged.
func TestDoubtfulCommandLines(t *testing.T) {
	for _, line := range []string{
		"--root /r --root /s create --bundle /b abc", // which root holds the state
		"create --bundle /a -b /b abc",               // runc uses the last bundle
		"--no-such-flag create --bundle /b abc",      // a global runc may read with a value
	} {
		if inv := parseInvocation(strings.Fields(line)); inv.doubt() == "" {
			t.Errorf("%s: not doubted", line)
		}
	}
	if why := parseInvocation(strings.Fields("--root /r -systemd-cgroup=true create -b /b abc")).doubt(); why != "" {
		t.Errorf("a known bool flag given a value doubted: %s", why)
	}
	// Main refuses it before judging or running anything.
	f := newFixture(t)
	cfgPath := filepath.Join(f.dir, "runtime.yaml")
	os.WriteFile(cfgPath, []byte(f.runtimeYAML(filepath.Join(f.dir, "no-runc"))), 0o644)
	t.Setenv(ConfigEnv, cfgPath)
	f.writeSpec(t, appSpec("default"))
	var stderr strings.Builder
	if code := Main([]string{"--log", f.logFile, "create", "--bundle", f.dir, "-b", f.bundle, "c1"}, &stderr); code != 1 || !strings.Contains(stderr.String(), "the bundle is given more than once") {
		t.Errorf("two bundles: exit %d, %q", code, stderr.String())
	}
}

type fixture struct {
	dir, bundle, logFile string
	cfg                  Config
	key                  []byte
}

const testPolicy = `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
exceptions:
  - name: tools
    match: {namespaces: [tools]}
    controls:
      capabilities: {allow: [CAP_CHOWN, CAP_NET_RAW, CAP_SYS_ADMIN]}
`

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	f := &fixture{dir: dir, bundle: filepath.Join(dir, "bundle"), logFile: filepath.Join(dir, "runc-log.json")}
	os.MkdirAll(f.bundle, 0o755)
	os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(testPolicy), 0o644)
	var err error
	if f.key, err = record.LoadOrCreateKey(filepath.Join(dir, "record.key")); err != nil {
		t.Fatal(err)
	}
	f.cfg = Config{Runc: "/bin/true", Policy: filepath.Join(dir, "policy.yaml"), PolicyDir: filepath.Join(dir, "none"),
		DecisionLog: filepath.Join(dir, "decisions.jsonl"), RecordKey: filepath.Join(dir, "record.key")}
	return f
}

// runtimeYAML is the wrapper's configuration for the fixture: every path
// in its own directory, so no test counts or marks on the node's /run.
func (f *fixture) runtimeYAML(runc string) string {
	return "runc: " + runc + "\npolicy: " + f.cfg.Policy + "\nrecordKey: " + f.cfg.RecordKey + "\ndecisionLog: " + f.cfg.DecisionLog +
		"\ntallies: " + filepath.Join(f.dir, "tallies") + "\njudgedDir: " + filepath.Join(f.dir, "judged") + "\n"
}

func (f *fixture) writeSpec(t *testing.T, spec *specs.Spec) {
	data, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(f.bundle, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) readSpec(t *testing.T) *specs.Spec {
	s, _, err := readSpec(filepath.Join(f.bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) create(id string) string {
	return guardCreate(f.cfg, parseInvocation([]string{"--log", f.logFile, "create", "--bundle", f.bundle, id}))
}

func appSpec(ns string, caps ...string) *specs.Spec {
	all := append([]string{"CAP_CHOWN", "CAP_NET_RAW"}, caps...)
	return &specs.Spec{
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Cwd: "/", Capabilities: &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}},
		Annotations: map[string]string{
			"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-namespace": ns,
			"io.kubernetes.cri.sandbox-name": "p", "io.kubernetes.cri.container-name": "c",
		},
		Linux: &specs.Linux{
			Namespaces:  []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "network"}, {Type: "mount"}},
			Seccomp:     &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
			MaskedPaths: []string{"/proc/kcore"},
		},
	}
}

func TestCreateRewritesTheSpec(t *testing.T) {
	f := newFixture(t)
	f.writeSpec(t, appSpec("default"))
	f.cfg.RecordKey = filepath.Join(f.dir, "no-key")
	if msg := f.create("c1"); msg != "" {
		t.Fatal(msg)
	}
	s := f.readSpec(t)
	if slices.Contains(s.Process.Capabilities.Effective, "CAP_NET_RAW") || !s.Root.Readonly || !s.Process.NoNewPrivileges {
		t.Fatalf("not rewritten: caps %v readonly %v nnp %v", s.Process.Capabilities.Effective, s.Root.Readonly, s.Process.NoNewPrivileges)
	}
	log, _ := os.ReadFile(f.cfg.DecisionLog)
	if !strings.Contains(string(log), `"phase":"runtime"`) || !strings.Contains(string(log), "strict treatment") {
		t.Fatalf("decision log: %s", log)
	}
}

func TestCreateRefusesAddedCapabilityIntoRuncsLog(t *testing.T) {
	f := newFixture(t)
	f.writeSpec(t, appSpec("default", "CAP_SYS_ADMIN"))
	msg := f.create("c1")
	if !strings.Contains(msg, "nri-guard: refused default/p/c: ") || !strings.Contains(msg, "capabilities: process.capabilities = CAP_SYS_ADMIN: added capability outside the allowlist") {
		t.Fatalf("refusal: %q", msg)
	}
	code := refuse(parseInvocation([]string{"--log", f.logFile, "create", "c1"}), new(strings.Builder), msg)
	line, _ := os.ReadFile(f.logFile)
	var entry map[string]string
	if code != 1 || json.Unmarshal(line, &entry) != nil || entry["level"] != "error" || entry["msg"] != msg {
		t.Fatalf("runc log line %q (exit %d)", line, code)
	}
}

func TestRecordDecidesTheException(t *testing.T) {
	f := newFixture(t)
	spec := appSpec("tools", "CAP_SYS_ADMIN")
	spec.Annotations[record.Annotation] = record.Sign(f.key, record.Record{ContainerID: "c1", Exception: "tools"})
	f.writeSpec(t, spec)
	if msg := f.create("c1"); msg != "" {
		t.Fatalf("with a valid record the exception applies: %s", msg)
	}
	// The same record on another container, or a forged one: strict.
	f.writeSpec(t, spec)
	if msg := f.create("c2"); !strings.Contains(msg, "CAP_SYS_ADMIN") {
		t.Fatalf("replayed record must not apply: %q", msg)
	}
	spec.Annotations[record.Annotation] = record.Sign([]byte(strings.Repeat("x", record.KeySize)), record.Record{ContainerID: "c3", Exception: "tools"})
	f.writeSpec(t, spec)
	if msg := f.create("c3"); !strings.Contains(msg, "CAP_SYS_ADMIN") {
		t.Fatalf("forged record must not apply: %q", msg)
	}
	delete(spec.Annotations, record.Annotation)
	f.writeSpec(t, spec)
	if msg := f.create("c4"); !strings.Contains(msg, "CAP_SYS_ADMIN") {
		t.Fatalf("missing record must be strict: %q", msg)
	}
	log, _ := os.ReadFile(f.cfg.DecisionLog)
	for _, want := range []string{"does not verify for this container", "no decision record"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("decision log lacks %q", want)
		}
	}
}

func TestCreateInjectsSeccompWhenNRICouldNot(t *testing.T) {
	f := newFixture(t)
	spec := appSpec("default")
	spec.Linux.Seccomp = nil // containerd 2.1 dropped the plugin's profile
	f.writeSpec(t, spec)
	if msg := f.create("c1"); msg != "" {
		t.Fatal(msg)
	}
	if s := f.readSpec(t); s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Fatal("the wrapper must inject the default profile itself")
	}
}

func TestCreateFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.writeSpec(t, appSpec("default"))
	f.cfg.Policy = filepath.Join(f.dir, "missing.yaml")
	if msg := f.create("c1"); !strings.Contains(msg, "cannot load the node policy") {
		t.Fatalf("%q", msg)
	}
	os.Remove(filepath.Join(f.bundle, "config.json"))
	f.cfg.Policy = filepath.Join(f.dir, "policy.yaml")
	if msg := f.create("c1"); !strings.Contains(msg, "cannot read the container's spec") {
		t.Fatalf("%q", msg)
	}
	t.Setenv(ConfigEnv, filepath.Join(f.dir, "no-config.yaml"))
	var stderr strings.Builder
	if code := Main([]string{"--log", f.logFile, "create", "--bundle", f.bundle, "c1"}, &stderr); code != 1 || !strings.Contains(stderr.String(), "cannot read its configuration") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestCwdIsCheckedOnCreateAndExec(t *testing.T) {
	f := newFixture(t)
	spec := appSpec("default")
	spec.Process.Cwd = "/proc/self/fd/7"
	f.writeSpec(t, spec)
	if msg := f.create("c1"); !strings.Contains(msg, "working-directory: process.cwd = /proc/self/fd/7") {
		t.Fatalf("create: %q", msg)
	}
	proc := filepath.Join(f.dir, "process.json")
	os.WriteFile(proc, []byte(`{"cwd": "/proc/1/fd/3", "args": ["sh"]}`), 0o600)
	if msg := guardExec(parseInvocation([]string{"exec", "--process", proc, "c1"})); !strings.Contains(msg, "CVE-2024-21626") {
		t.Fatalf("exec: %q", msg)
	}
	if msg := guardExec(parseInvocation([]string{"exec", "--cwd", "/proc/self/fd/4", "c1", "sh"})); !strings.Contains(msg, "CVE-2024-21626") {
		t.Fatalf("exec --cwd: %q", msg)
	}
}

func TestExecCannotRegainDroppedCapabilities(t *testing.T) {
	f := newFixture(t)
	f.writeSpec(t, appSpec("default")) // the bundle as create left it
	spec := f.readSpec(t)
	chown := []string{"CAP_CHOWN"}
	spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: chown, Effective: chown, Permitted: chown}
	f.writeSpec(t, spec)
	root := filepath.Join(f.dir, "runc-root")
	os.MkdirAll(filepath.Join(root, "c1"), 0o700)
	os.WriteFile(filepath.Join(root, "c1", "state.json"), []byte(`{"config":{"labels":["bundle=`+f.bundle+`"]}}`), 0o600)
	proc := filepath.Join(f.dir, "process.json")
	os.WriteFile(proc, []byte(`{"cwd":"/","args":["sh"],"capabilities":{"bounding":["CAP_CHOWN","CAP_NET_RAW"],"effective":["CAP_CHOWN","CAP_NET_RAW"]}}`), 0o600)
	if msg := guardExec(parseInvocation([]string{"--root", root, "exec", "--process", proc, "c1"})); msg != "" {
		t.Fatal(msg)
	}
	var p specs.Process
	data, _ := os.ReadFile(proc)
	json.Unmarshal(data, &p)
	if !slices.Equal(p.Capabilities.Effective, []string{"CAP_CHOWN"}) || !slices.Equal(p.Capabilities.Bounding, []string{"CAP_CHOWN"}) {
		t.Fatalf("exec capabilities %+v", p.Capabilities)
	}
}

func TestBrokenPolicyFallsBackToTheLastGood(t *testing.T) {
	f := newFixture(t)
	f.writeSpec(t, appSpec("default"))
	lastGood := filepath.Join(f.dir, "last-good")
	os.MkdirAll(filepath.Join(lastGood, "policy.d"), 0o700)
	os.WriteFile(filepath.Join(lastGood, "policy.yaml"), []byte(testPolicy), 0o600)
	f.cfg.LastGood = lastGood
	os.WriteFile(f.cfg.Policy, []byte(testPolicy+"defaultMode: loud\n"), 0o644)
	if msg := f.create("c1"); msg != "" {
		t.Fatalf("a broken policy with a last good copy must not refuse: %s", msg)
	}
	log, _ := os.ReadFile(f.cfg.DecisionLog)
	if !strings.Contains(string(log), "the policy files do not load") || !strings.Contains(string(log), "the last good policy was used") {
		t.Fatalf("decision log must say so: %s", log)
	}
	os.RemoveAll(lastGood)
	f.writeSpec(t, appSpec("default"))
	if msg := f.create("c2"); !strings.Contains(msg, "cannot load the node policy") {
		t.Fatalf("without a last good copy it refuses: %q", msg)
	}
}

func TestEveryVerbThatStartsABundleIsGuarded(t *testing.T) {
	f := newFixture(t)
	cfgPath := filepath.Join(f.dir, "runtime.yaml")
	os.WriteFile(cfgPath, []byte(f.runtimeYAML("/bin/true")+"allowRestore: true\n"), 0o644)
	t.Setenv(ConfigEnv, cfgPath)
	for _, verb := range []string{"create", "run", "restore"} {
		f.writeSpec(t, appSpec("default", "CAP_SYS_ADMIN"))
		var stderr strings.Builder
		if code := Main([]string{"--log", f.logFile, verb, "--bundle", f.bundle, "c-" + verb}, &stderr); code != 1 || !strings.Contains(stderr.String(), "CAP_SYS_ADMIN") {
			t.Errorf("runc %s with an added CAP_SYS_ADMIN: exit %d, %q", verb, code, stderr.String())
		}
	}
}

// A restore is refused unless the node allows restores, whatever its
// spec: CRIU restores the checkpoint's credentials, not the spec's.
func TestRestoreIsRefusedUnlessAllowed(t *testing.T) {
	f := newFixture(t)
	cfgPath := filepath.Join(f.dir, "runtime.yaml")
	// No real runc: were the restore let through, Main could not exec
	// one and would say so instead.
	base := f.runtimeYAML(filepath.Join(f.dir, "no-runc"))
	t.Setenv(ConfigEnv, cfgPath)
	os.WriteFile(cfgPath, []byte(base), 0o644)
	f.writeSpec(t, appSpec("default"))
	var stderr strings.Builder
	code := Main([]string{"--log", f.logFile, "restore", "--bundle", f.bundle, "c-restore"}, &stderr)
	for _, want := range []string{"runc restore of container c-restore", "CRIU", "allowRestore: true", cfgPath} {
		if code != 1 || !strings.Contains(stderr.String(), want) {
			t.Errorf("restore of a benign spec on a node that does not allow restores: exit %d, %q lacks %q", code, stderr.String(), want)
		}
	}
	// Allowed, the restore goes on to be judged as a create
	// (TestEveryVerbThatStartsABundleIsGuarded); Main would exec runc
	// here, so the refusal step is asked alone.
	os.WriteFile(cfgPath, []byte(base+"allowRestore: true\n"), 0o644)
	cfg, _, err := loadConfig()
	if err != nil || !cfg.AllowRestore {
		t.Fatalf("allowRestore: true not read: %v %+v", err, cfg)
	}
	if msg := refuseRestore(cfg, cfgPath, parseInvocation([]string{"restore", "c-restore"})); msg != "" {
		t.Fatalf("an allowed restore refused: %s", msg)
	}
}

// Every refusal reaches the metrics, by the verb refused, whichever step
// refused: the decision, the command line, the restore setting.
func TestEveryRefusalIsCounted(t *testing.T) {
	f := newFixture(t)
	tallies := filepath.Join(f.dir, "tallies")
	cfgPath := filepath.Join(f.dir, "runtime.yaml")
	os.WriteFile(cfgPath, []byte(f.runtimeYAML(filepath.Join(f.dir, "no-runc"))), 0o644)
	t.Setenv(ConfigEnv, cfgPath)
	f.writeSpec(t, appSpec("default", "CAP_SYS_ADMIN"))
	for _, args := range [][]string{
		{"--log", f.logFile, "create", "--bundle", f.bundle, "c1"},                 // the decision refuses
		{"--log", f.logFile, "create", "--bundle", f.bundle, "-b", f.bundle, "c2"}, // the command line
		{"--log", f.logFile, "restore", "--bundle", f.bundle, "c3"},                // restores are off
		{"--log", f.logFile, "exec", "--no-such-flag", "c1"},                       // exec's flags
	} {
		if code := Main(args, io.Discard); code != 1 {
			t.Fatalf("%v: exit %d, want a refusal", args, code)
		}
	}
	got, err := tally.Read(tallies)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"refused-create": 2, "refused-restore": 1, "refused-exec": 1, "create-refuse": 1}
	for event, n := range want {
		if got[event] != n {
			t.Errorf("%s counted %d times, want %d (all: %v)", event, got[event], n, got)
		}
	}
}

// TestWrapperProcess is not a test: the tests below run this binary as
// the wrapper (syscall.Exec replaces the process, so it needs its own).
func TestWrapperProcess(t *testing.T) {
	if os.Getenv("NRI_GUARD_TEST_WRAPPER") != "1" {
		t.Skip("helper process")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args, os.Stderr))
}

// Without a usable configuration the wrapper still lets containers that
// were judged at creation be stopped and deleted (a node whose
// configuration broke, or that was uninstalled under running pods), and
// still refuses everything that would start a process.
func TestBrokenConfigPassesStopVerbsThrough(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\necho \"fake runc $*\"\n"
	if err := os.WriteFile(filepath.Join(bin, "runc"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestWrapperProcess$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), "NRI_GUARD_TEST_WRAPPER=1", "PATH="+bin,
			ConfigEnv+"="+filepath.Join(t.TempDir(), "missing.yaml"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, verb := range [][]string{{"kill", "c1", "KILL"}, {"delete", "--force", "c1"}, {"state", "c1"}} {
		out, err := run(append([]string{"--root", "/run/x"}, verb...)...)
		if err != nil || !strings.Contains(out, "fake runc --root /run/x "+verb[0]) {
			t.Errorf("%s: %v %q, want it passed to the runc on PATH", verb[0], err, out)
		}
	}
	for _, verb := range []string{"create", "run", "exec"} {
		out, err := run(verb, "c1")
		if err == nil || !strings.Contains(out, "cannot read its configuration") || strings.Contains(out, "fake runc") {
			t.Errorf("%s: %v %q, want it refused", verb, err, out)
		}
	}
}
