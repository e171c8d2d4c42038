package wrapper

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runtime.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ConfigEnv, path)
	return path
}

func asWrapper(t *testing.T, name string) {
	old := invokedAs
	invokedAs = func() string { return "/var/lib/rancher/k3s/nri-guard/bin/" + name }
	t.Cleanup(func() { invokedAs = old })
}

func TestHandlerSelectsTheRealBinary(t *testing.T) {
	writeConfig(t, "runc: /usr/bin/runc\nhandlers:\n  crun: /usr/bin/crun\n  nvidia-experimental: /usr/bin/nvidia-container-runtime-experimental\n")
	for name, want := range map[string][2]string{
		"nri-guard-runc":                     {"runc", "/usr/bin/runc"},
		"nri-guard-runc-crun":                {"crun", "/usr/bin/crun"},
		"nri-guard-runc-nvidia-experimental": {"nvidia-experimental", "/usr/bin/nvidia-container-runtime-experimental"},
		// Any other name is the default wrapper: installs by hand under
		// another name keep working, and runc: is what they run.
		"runc":            {"runc", "/usr/bin/runc"},
		"nri-guard-runc-": {"runc", "/usr/bin/runc"},
	} {
		asWrapper(t, name)
		cfg, _, err := loadConfig()
		if err != nil || cfg.Handler != want[0] || cfg.Runc != want[1] {
			t.Errorf("started as %s: handler %q runs %q (%v), want %q runs %q", name, cfg.Handler, cfg.Runc, err, want[0], want[1])
		}
	}
	if WrapperFor("runc") != "nri-guard-runc" || WrapperFor("crun") != "nri-guard-runc-crun" {
		t.Errorf("WrapperFor: %s %s", WrapperFor("runc"), WrapperFor("crun"))
	}
}

func TestUnknownHandlerIsAnErrorThatKeepsTheDefaultRunc(t *testing.T) {
	path := writeConfig(t, "runc: /usr/bin/runc\nhandlers:\n  crun: /usr/bin/crun\n")
	asWrapper(t, "nri-guard-runc-kata")
	cfg, _, err := loadConfig()
	if err == nil || !strings.Contains(err.Error(), path+`: this wrapper was started as /var/lib/rancher/k3s/nri-guard/bin/nri-guard-runc-kata, the wrapper of runtime handler "kata", and handlers: names no real binary for "kata"`) {
		t.Fatalf("error %v", err)
	}
	// What the stop verbs pass through to: the one real binary it knows.
	if cfg.Runc != "/usr/bin/runc" {
		t.Fatalf("runc %q", cfg.Runc)
	}
}

func TestHandlersBadInput(t *testing.T) {
	asWrapper(t, "nri-guard-runc")
	for text, want := range map[string]string{
		"runc: /r\nhandlers:\n  crun: crun\n":                         `:3: handlers.crun: want the absolute path of the handler's real binary, got "crun"`,
		"runc: /r\nhandlers:\n  crun:\n":                              `:3: handlers.crun: want the absolute path of the handler's real binary`,
		"runc: /r\nhandlers:\n  crun: [/usr/bin/crun]\n":              `:3: handlers.crun: want the absolute path`,
		"runc: /r\nhandlers:\n  /usr/bin/crun: /usr/bin/crun\n":       `:3: handlers: runtime handler "/usr/bin/crun": want the name of a runtime in containerd's configuration`,
		"runc: /r\nhandlers:\n  crun: /a\n  nvidia: /b\n  crun: /c\n": `:5: handlers.crun: already named at line 3`,
		"runc: /r\nhandlers: [crun]\n":                                `:2: handlers: want a map of runtime handler to its real binary`,
		"runc: /r\nhandlers:\n  crun: /x/bin/nri-guard-runc-crun\n":   `:3: handlers.crun: /x/bin/nri-guard-runc-crun is a runtime wrapper; name the real binary it stands for`,
		"runc: /r\nhandler:\n  crun: /usr/bin/crun\n":                 `line 2: field handler not found`,
	} {
		path := writeConfig(t, text)
		_, _, err := loadConfig()
		if err == nil || !strings.Contains(err.Error(), path+want) && !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %s%s", text, err, path, want)
		}
	}
}

// TestHandlerWrappers runs the wrapper binary under per-handler names,
// as containerd's shim runs a runtime's BinaryName, with fake real
// binaries that say who they are.
func TestHandlerWrappers(t *testing.T) {
	f := newFixture(t)
	bin := t.TempDir()
	for _, name := range []string{"runc", "crun"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \"fake "+name+" $*\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, _ := os.Executable()
	for _, h := range []string{"crun", "kata", "nvidia"} {
		if err := os.Symlink(self, filepath.Join(bin, WrapperFor(h))); err != nil {
			t.Fatal(err)
		}
	}
	guarded := filepath.Join(f.dir, "guarded.yaml")
	os.WriteFile(guarded, []byte(testPolicy+"controls:\n  runtimeHandlers: {guarded: [\"\", runc, crun, nvidia]}\n"), 0o644)
	cfg := "runc: " + bin + "/runc\nhandlers:\n  crun: " + bin + "/crun\n  nvidia: " + bin + "/crun\npolicy: %s\nrecordKey: " + f.cfg.RecordKey + "\ndecisionLog: " + f.cfg.DecisionLog + "\n"
	cfgPath := filepath.Join(f.dir, "runtime.yaml")
	setPolicy := func(p string) { os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "%s", p, 1)), 0o644) }
	run := func(wrapper string, args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(bin, wrapper), append([]string{"-test.run=^TestWrapperProcess$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), "NRI_GUARD_TEST_WRAPPER=1", ConfigEnv+"="+cfgPath)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	create := []string{"--log", f.logFile, "create", "--bundle", f.bundle, "c1"}

	setPolicy(guarded)
	f.writeSpec(t, appSpec("default"))
	if out, err := run(WrapperFor("crun"), create...); err != nil || !strings.Contains(out, "fake crun --log") {
		t.Fatalf("create through crun's wrapper: %v %q, want the spec judged and handed to crun", err, out)
	}
	if s := f.readSpec(t); !s.Root.Readonly || !s.Process.NoNewPrivileges {
		t.Fatalf("crun's container was not rewritten: %+v", s.Process)
	}
	if log, _ := os.ReadFile(f.cfg.DecisionLog); !strings.Contains(string(log), `"runtimeHandler":"crun"`) {
		t.Fatalf("decision log: %s", log)
	}

	// A wrapper of a handler runtime.yaml does not map: refused, not
	// guessed; what starts nothing still reaches the one real binary it knows.
	f.writeSpec(t, appSpec("default"))
	if out, err := run(WrapperFor("kata"), create...); err == nil || !strings.Contains(out, `the wrapper of runtime handler "kata", and handlers: names no real binary for "kata"`) || strings.Contains(out, "fake") {
		t.Fatalf("create through an unmapped handler's wrapper: %v %q", err, out)
	}
	if out, err := run(WrapperFor("kata"), "exec", "--process", "/p.json", "c1"); err == nil || strings.Contains(out, "fake") {
		t.Fatalf("exec through an unmapped handler's wrapper: %v %q", err, out)
	}
	if out, err := run(WrapperFor("kata"), "kill", "c1", "KILL"); err != nil || !strings.Contains(out, "fake runc kill c1 KILL") {
		t.Fatalf("kill through an unmapped handler's wrapper: %v %q", err, out)
	}

	// Wrapped but not listed as guarded: the policy is what counts, at
	// the wrapper too (it is the only judge of a pod sandbox).
	setPolicy(f.cfg.Policy)
	f.writeSpec(t, appSpec("default"))
	if out, err := run(WrapperFor("nvidia"), create...); err == nil || !strings.Contains(out, "runtime-handlers: pod.runtimeHandler = nvidia:") || strings.Contains(out, "fake") {
		t.Fatalf("create through nvidia's wrapper, nvidia not guarded: %v %q", err, out)
	}
}
