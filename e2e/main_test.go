//go:build e2e

// Package e2e runs nri-guard against real containerd, runc and crictl:
// kubelet-style CRI calls into containerd 2.x, through NRI, into runc.
// Run it with `make e2e` (which installs the pinned tools first).
package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

type testingT interface {
	Helper()
	Fatal(...any)
	Fatalf(string, ...any)
	Logf(string, ...any)
}

var (
	repoRoot     = mustAbs("..")
	cacheDir     = envOr("NRI_GUARD_E2E_CACHE", filepath.Join(os.Getenv("HOME"), ".cache", "nri-guard-e2e"))
	runcBin      = filepath.Join(cacheDir, "runc-v1.5.3", "runc")
	crictlBin    = filepath.Join(cacheDir, "crictl-v1.37.0", "crictl")
	guardBin     = filepath.Join(repoRoot, "bin", "nri-guard")
	policyFile   = filepath.Join(repoRoot, "e2e", "policies", "policy.yaml")
	policyDir    = filepath.Join(repoRoot, "e2e", "policies", "policy.d")
	workDir      string
	pauseImage   string
	busyboxImage string

	// versions and modes: each containerd version runs every case once,
	// in one of the two ways users install the guard.
	versions = strings.Fields(envOr("CONTAINERD_VERSIONS", "v2.4.2 v2.2.9 v2.1.9"))

	passed, failed atomic.Int64

	cleanupMu sync.Mutex
	cleanups  []func()
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("e2e: must run as root (containerd, mounts, network namespaces)")
		os.Exit(1)
	}
	var err error
	workDir, err = os.MkdirTemp("", "nrig-images-")
	if err == nil {
		err = buildImages()
	}
	if err != nil {
		fmt.Println("e2e setup:", err)
		os.Exit(1)
	}
	// Interrupted runs clean up too: stop containerd, pods and mounts.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		runCleanups()
		os.Exit(130)
	}()
	code := m.Run()
	runCleanups()
	os.RemoveAll(workDir)
	fmt.Printf("e2e: %d passed, %d failed\n", passed.Load(), failed.Load())
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

// buildImages writes the pause and busybox images with e2e/tools.
func buildImages() error {
	pauseBin := filepath.Join(workDir, "pause")
	build := exec.Command("go", "build", "-o", pauseBin, "./e2e/tools/pause")
	build.Dir, build.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building pause: %v\n%s", err, out)
	}
	pauseImage = filepath.Join(workDir, "pause.tar")
	busyboxImage = filepath.Join(workDir, "busybox.tar")
	args := []string{"--ref", "localhost/e2e/busybox:1", "--out", busyboxImage,
		"--file", "/bin/busybox:/bin/busybox", "--dir", "/tmp", "--dir", "/data",
		"--file", filepath.Join(repoRoot, "e2e", "tools", "passwd") + ":/etc/passwd", "--cmd", "/bin/sh"}
	for _, applet := range []string{"sh", "sleep", "cat", "grep", "id", "touch", "ls", "echo", "mount", "unshare", "head"} {
		args = append(args, "--symlink", "/bin/"+applet+":busybox")
	}
	for _, a := range [][]string{
		{"--ref", "localhost/e2e/pause:1", "--out", pauseImage, "--file", pauseBin + ":/pause", "--entrypoint", "/pause"},
		args,
	} {
		cmd := exec.Command("go", append([]string{"run", "./e2e/tools/mkimage"}, a...)...)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("mkimage %v: %v\n%s", a, err, out)
		}
	}
	return nil
}

func modeFor(i int) string {
	// Alternate so that every run covers both ways of installing.
	if i%2 == 0 {
		return "external"
	}
	return "preregistered"
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

var _ = runtime.GOARCH
