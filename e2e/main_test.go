//go:build e2e

// Package e2e runs nri-guard against real containerd, runc and crictl:
// kubelet-style CRI calls into containerd 2.x, through NRI, into runc.
// Run it with `make e2e` or e2e/run.sh (which install the pinned tools
// first with e2e/setup.sh).
//
// Environment:
//
//	CONTAINERD_VERSIONS   containerd versions to run (default "v2.4.2 v2.3.4 v2.2.9 v2.1.9")
//	NRI_GUARD_E2E_MODES   how nri-guard is attached: external, preregistered,
//	                      none (no guard; only cases marked infra run). Unset:
//	                      the versions alternate between external and
//	                      preregistered so one pass covers both; set: every
//	                      version runs in every listed mode.
//	NRI_GUARD_E2E_CACHE   where setup.sh put the tools
//	NRI_GUARD_E2E_KEEP    keep each environment's temporary root for reading
package e2e

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/cases"
	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

type testingT interface {
	Helper()
	Fatal(...any)
	Fatalf(string, ...any)
	Logf(string, ...any)
}

var (
	repoRoot  = mustAbs("..")
	cacheDir  = envOr("NRI_GUARD_E2E_CACHE", filepath.Join(os.Getenv("HOME"), ".cache", "nri-guard-e2e"))
	runcBin   = filepath.Join(cacheDir, "runc-v1.5.3", "runc")
	crictlBin = filepath.Join(cacheDir, "crictl-v1.37.0", "crictl")
	cniBinDir = envOr("NRI_GUARD_E2E_CNI_BIN", "/usr/lib/cni")

	defaultPolicy = policyRef{
		File: filepath.Join(repoRoot, cases.DefaultPolicy),
		Dir:  filepath.Join(repoRoot, cases.DefaultPolicyDir),
	}

	// Set up by TestMain in workDir.
	workDir      string
	guardBin     string
	wrapperBin   string // nri-guard-runc, containerd's runc BinaryName
	pauseBin     string
	nridumpBin   string
	hostileBin   string // a later NRI plugin that adjusts against the policy
	sysprobeBin  string // e2e/tools/sysprobe, in the busybox image
	suidprobeBin string // e2e/tools/suidprobe, setuid root in the busybox image
	pauseImage   string
	busyboxImage string
	// k3sImages are the image tars for k3sImageNames.
	k3sImages []string

	versions = strings.Fields(envOr("CONTAINERD_VERSIONS", "v2.4.2 v2.3.4 v2.2.9 v2.1.9"))
	modes    = strings.Fields(envOr("NRI_GUARD_E2E_MODES", "external preregistered"))

	passed, failed atomic.Int64
	// stopping is set once teardown of the whole run has begun (signal,
	// timeout): no environment may start after that.
	stopping atomic.Bool

	cleanupMu sync.Mutex
	cleanups  []func()
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Println("e2e: must run as root (containerd, mounts, network namespaces)")
		os.Exit(1)
	}
	sweepStaleRoots()
	if err := prepare(); err != nil {
		fmt.Println("e2e setup:", err)
		os.RemoveAll(workDir)
		fmt.Println("0 passed, 1 failed")
		os.Exit(1)
	}
	testhost.TearDownBeforeEnd("e2e", 30*time.Second, func(code int) {
		failed.Add(1)
		finish(code)
	})
	code := m.Run()
	finish(code)
}

var finishing sync.Mutex

// finish tears everything down and prints the summary as the last line.
// A signal or the timeout may call it while the tests run; whoever comes
// second waits for the first to exit the process.
func finish(code int) {
	stopping.Store(true)
	finishing.Lock()
	runCleanups()
	os.RemoveAll(workDir)
	if failed.Load() > 0 && code == 0 {
		code = 1
	}
	fmt.Printf("%d passed, %d failed\n", passed.Load(), failed.Load())
	os.Exit(code)
}

func registerCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func runCleanups() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

// prepare checks the tools and builds the binaries and images the
// environments share.
func prepare() error {
	for _, bin := range []string{runcBin, crictlBin, filepath.Join(cniBinDir, "bridge")} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%v (run e2e/setup.sh)", err)
		}
	}
	var err error
	if workDir, err = os.MkdirTemp("", "nrig-images-"); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(workDir, "owner"), []byte(testhost.OwnerRecord()), 0o644); err != nil {
		return err
	}
	if err := buildTools(); err != nil {
		return err
	}
	if needsGuard() {
		// A stale bin/ would test old code: say which binaries run.
		for _, bin := range []string{guardBin, wrapperBin} {
			if fi, err := os.Stat(bin); err == nil {
				fmt.Printf("e2e: using %s (built %s)\n", bin, fi.ModTime().Format(time.DateTime))
			}
		}
	}
	return buildImages()
}

// buildTools builds the pause binary, the NRI dump plugin and, where
// `make build` has not made them, nri-guard and nri-guard-runc into
// workDir.
func buildTools() error {
	pauseBin = filepath.Join(workDir, "pause")
	nridumpBin = filepath.Join(workDir, "nridump")
	sysprobeBin = filepath.Join(workDir, "sysprobe")
	hostileBin = filepath.Join(workDir, "hostile")
	suidprobeBin = filepath.Join(workDir, "suidprobe")
	builds := [][2]string{{pauseBin, "./e2e/tools/pause"}, {nridumpBin, "./e2e/tools/nridump"}, {sysprobeBin, "./e2e/tools/sysprobe"},
		{hostileBin, "./e2e/tools/hostile"}, {suidprobeBin, "./e2e/tools/suidprobe"}}
	for _, b := range []struct {
		bin *string
		pkg string
	}{{&guardBin, "nri-guard"}, {&wrapperBin, "nri-guard-runc"}} {
		*b.bin = filepath.Join(repoRoot, "bin", b.pkg)
		if _, err := os.Stat(*b.bin); err != nil && needsGuard() {
			*b.bin = filepath.Join(workDir, b.pkg)
			builds = append(builds, [2]string{*b.bin, "./plugin/" + b.pkg})
		}
	}
	for _, b := range builds {
		// As `make build`: nri_no_wasm keeps NRI's wasm plugin host out.
		cmd := exec.Command("go", "build", "-tags", "nri_no_wasm", "-o", b[0], b[1])
		cmd.Dir, cmd.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
		}
	}
	// setuid root, as mkimage copies it into the image.
	return os.Chmod(suidprobeBin, 0o755|os.ModeSetuid)
}

// needsGuard: some mode in the run attaches nri-guard.
func needsGuard() bool {
	for _, m := range modes {
		if m != "none" {
			return true
		}
	}
	return false
}

// buildImages writes the pause and busybox images with e2e/tools/mkimage.
func buildImages() error {
	pauseImage = filepath.Join(workDir, "pause.tar")
	busyboxImage = filepath.Join(workDir, "busybox.tar")
	tools := filepath.Join(repoRoot, "e2e", "tools")
	files := cases.ImageFiles{Busybox: "/bin/busybox", Sysprobe: sysprobeBin, Suidprobe: suidprobeBin,
		Standin: filepath.Join(tools, "standin"), Passwd: filepath.Join(tools, "passwd"), Group: filepath.Join(tools, "group")}
	pause := []string{"--ref", "localhost/e2e/pause:1", "--out", pauseImage,
		"--file", pauseBin + ":/pause", "--entrypoint", "/pause", "--user", "65534:65534"}
	images := [][]string{pause, cases.BusyboxImage(busyboxImage, files)}
	for _, ref := range cases.K3sImageNames {
		tar := filepath.Join(workDir, strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".tar")
		k3sImages = append(k3sImages, tar)
		images = append(images, cases.StandinImage(ref, tar, files))
	}
	for _, args := range images {
		cmd := exec.Command("go", append([]string{"run", "./e2e/tools/mkimage"}, args...)...)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("mkimage %v: %v\n%s", args, err, out)
		}
	}
	return nil
}

func must(t testingT, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func readFile(p string) string {
	data, _ := os.ReadFile(p)
	return string(data)
}

func tail(p string, n int) string {
	lines := strings.Split(strings.TrimSpace(readFile(p)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
