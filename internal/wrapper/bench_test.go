package wrapper

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The wrapper's overhead, as ratios within one run (these machines are
// noisy): `make bench` runs these next to each other.

// BenchmarkCreateGuard is the work create adds before runc: read the
// spec, load policy and profiles, decide, write the rewritten spec.
func BenchmarkCreateGuard(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	spec := appSpec("default")
	b.ReportAllocs()
	for b.Loop() {
		f.writeSpec(t, spec)
		if msg := f.create("c1"); msg != "" {
			b.Fatal(msg)
		}
	}
}

// runcForBench finds a real runc: the e2e cache's, or one on PATH.
func runcForBench(b *testing.B) string {
	home, _ := os.UserHomeDir()
	for _, p := range []string{filepath.Join(home, ".cache/nri-guard-e2e/runc-v1.5.3/runc")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("runc")
	if err != nil {
		b.Skip("no runc here (make e2e installs one)")
	}
	return p
}

// wrapperForBench builds nri-guard-runc configured to run realRunc.
func wrapperForBench(b *testing.B, realRunc string) (string, []string) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "nri-guard-runc")
	build := exec.Command("go", "build", "-o", bin, "../../plugin/nri-guard-runc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "runtime.yaml")
	os.WriteFile(cfg, []byte("runc: "+realRunc+"\n"), 0o644)
	return bin, append(os.Environ(), ConfigEnv+"="+cfg)
}

func runCmd(b *testing.B, env []string, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// BenchmarkRuncDirect and BenchmarkPassThrough compare `runc --version`
// with the same call through the wrapper (parse the verb, read its small
// config, exec runc): the cost every non-create runc call pays.
func BenchmarkRuncDirect(b *testing.B) {
	runc := runcForBench(b)
	for b.Loop() {
		runCmd(b, os.Environ(), runc, "--version")
	}
}

func BenchmarkPassThrough(b *testing.B) {
	runc := runcForBench(b)
	bin, env := wrapperForBench(b, runc)
	for b.Loop() {
		runCmd(b, env, bin, "--version")
	}
}

// BenchmarkCreatePinned and BenchmarkCreateUnpinned are create with the
// binds a kubelet pod has (hosts, hostname, resolv.conf, termination log,
// a volume directory, a service account token directory), with and
// without pinning their sources (open, judge what they name, bind-mount
// them under the pin root). The pins are released between rounds, as
// delete would, outside the timer.
func BenchmarkCreatePinned(b *testing.B)   { benchCreateBinds(b, true) }
func BenchmarkCreateUnpinned(b *testing.B) { benchCreateBinds(b, false) }

func benchCreateBinds(b *testing.B, pin bool) {
	t := &testing.T{}
	f := newFixture(t)
	withPinRoot(b, f.dir)
	old := pinning
	pinning = pin
	defer func() { pinning = old }()
	spec := appSpec("default")
	for _, name := range []string{"hosts", "hostname", "resolv.conf", "termination-log"} {
		p := filepath.Join(f.dir, "pod", name)
		must(b, os.MkdirAll(filepath.Dir(p), 0o755))
		must(b, os.WriteFile(p, nil, 0o644))
		spec.Mounts = append(spec.Mounts, bind(p, "/etc/"+name))
	}
	for _, name := range []string{"volumes/data", "volumes/token"} {
		p := filepath.Join(f.dir, "pod", name)
		must(b, os.MkdirAll(p, 0o755))
		spec.Mounts = append(spec.Mounts, bind(p, "/"+name))
	}
	b.ReportAllocs()
	for b.Loop() {
		f.writeSpec(t, spec)
		if msg := f.create("c1"); msg != "" {
			b.Fatal(msg)
		}
		b.StopTimer() // delete's work, not create's
		releasePins("c1")
		b.StartTimer()
	}
}
