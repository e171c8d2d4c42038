//go:build e2e_cluster

package cluster

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nri-guard/nri-guard/e2e/internal/cases"
)

// The bed's own images, written with e2e/tools/mkimage: the sandbox
// (pause) image containerd pins, and the e2e cases' busybox (the crictl
// suite's, e2e/internal/cases) for the workloads the first tests run
// (httpd, wget, sleep) and for the cases applied with kubectl.
const (
	pauseRef   = "localhost/e2e/pause:1"
	busyboxRef = cases.DefaultImage
	// the same busybox whose image user is nobody, for the pods that ask
	// runAsNonRoot (the kubelet checks it against the image's user)
	busyboxNobodyRef = "localhost/e2e/busybox-nobody:1"
)

// buildTools builds the pause binary and the bed's images, and finds
// nri-guard (bin/, from `make build`; built here when missing).
func (b *bed) buildTools() error {
	b.pauseBin = filepath.Join(b.binDir, "pause")
	sysprobe, suidprobe := filepath.Join(b.binDir, "sysprobe"), filepath.Join(b.binDir, "suidprobe")
	builds := [][2]string{{b.pauseBin, "./e2e/tools/pause"}, {sysprobe, "./e2e/tools/sysprobe"}, {suidprobe, "./e2e/tools/suidprobe"}}
	b.guardBin = filepath.Join(repoRoot, "bin", "nri-guard")
	_, errGuard := os.Stat(b.guardBin)
	_, errWrapper := os.Stat(filepath.Join(repoRoot, "bin", "nri-guard-runc"))
	if errGuard != nil || errWrapper != nil {
		// The installer takes both binaries from one directory.
		b.guardBin = filepath.Join(b.binDir, "nri-guard")
		builds = append(builds, [2]string{b.guardBin, "./plugin/nri-guard"},
			[2]string{filepath.Join(b.binDir, "nri-guard-runc"), "./plugin/nri-guard-runc"})
	} else if fi, err := os.Stat(b.guardBin); err == nil {
		fmt.Printf("e2e-cluster: installing %s (built %s)\n", b.guardBin, fi.ModTime().Format("2006-01-02 15:04:05"))
	}
	for _, bl := range builds {
		cmd := exec.Command("go", "build", "-tags", "nri_no_wasm", "-o", bl[0], bl[1])
		cmd.Dir, cmd.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", bl[1], err, out)
		}
	}
	mkimage := filepath.Join(b.binDir, "mkimage")
	cmd := exec.Command("go", "build", "-o", mkimage, "./e2e/tools/mkimage")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build mkimage: %v\n%s", err, out)
	}
	// setuid root, as mkimage copies it into the image
	if err := os.Chmod(suidprobe, 0o755|os.ModeSetuid); err != nil {
		return err
	}
	tools := filepath.Join(repoRoot, "e2e", "tools")
	files := cases.ImageFiles{Busybox: "/bin/busybox", Sysprobe: sysprobe, Suidprobe: suidprobe,
		Standin: filepath.Join(tools, "standin"), Passwd: filepath.Join(tools, "passwd"), Group: filepath.Join(tools, "group")}
	pause := []string{"--ref", pauseRef, "--out", b.path("images", "pause.tar"),
		"--file", b.pauseBin + ":/pause", "--entrypoint", "/pause", "--user", "65534:65534"}
	bb := cases.BusyboxImage(b.path("images", "busybox.tar"), files)
	// later flags win
	nobody := append(slices.Clone(bb), "--ref", busyboxNobodyRef, "--out", b.path("images", "busybox-nobody.tar"), "--user", "65534:65534")
	images := [][]string{pause, bb, nobody}
	for _, ref := range cases.K3sImageNames {
		name := strings.NewReplacer("/", "_", ":", "_").Replace(ref)
		b.images[name] = b.path("images", name+".tar")
		images = append(images, cases.StandinImage(ref, b.images[name], files))
	}
	for _, args := range images {
		if out, err := exec.Command(mkimage, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("mkimage %v: %v\n%s", args, err, out)
		}
	}
	b.images["pause"] = b.path("images", "pause.tar")
	b.images["busybox"] = b.path("images", "busybox.tar")
	b.images["busybox-nobody"] = b.path("images", "busybox-nobody.tar")
	return nil
}

// importImages loads the bed's own images into containerd's k8s.io
// namespace, where the kubelet's pods find them.
func (b *bed) importImages() error {
	for _, tar := range b.images {
		if out, err := b.ctr("images", "import", tar); err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
	}
	return nil
}

// workloadImagesDir is where e2e/images/build.sh writes the real-workload
// images (coredns, local-path-provisioner, servicelb, nginx, postgres,
// redis, pyweb), one NAME.tar each.
var workloadImagesDir = filepath.Join(cacheDir, "images")

var imported sync.Map // name -> ref

// importImage loads the workload image NAME from the image cache into the
// node and returns its reference; the test is skipped, with the reason,
// when the image has not been built.
func importImage(t *testing.T, name string) string {
	t.Helper()
	if ref, ok := imported.Load(name); ok {
		return ref.(string)
	}
	tarPath := filepath.Join(workloadImagesDir, name+".tar")
	if _, err := os.Stat(tarPath); err != nil {
		t.Skipf("image %s not built: no %s (build it with e2e/images/build.sh)", name, tarPath)
	}
	ref, err := imageRef(tarPath)
	if err != nil {
		t.Fatalf("image %s: %v", tarPath, err)
	}
	if out, err := node.ctr("images", "import", tarPath); err != nil {
		t.Fatalf("importing %s: %v\n%s", tarPath, err, out)
	}
	imported.Store(name, ref)
	return ref
}

// imageRef reads the reference an OCI layout tar names its image by
// (index.json's io.containerd.image.name annotation).
func imageRef(tarPath string) (string, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("no index.json")
		}
		if err != nil {
			return "", err
		}
		if filepath.Clean(h.Name) != "index.json" {
			continue
		}
		var index struct {
			Manifests []struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		if err := json.NewDecoder(tr).Decode(&index); err != nil {
			return "", err
		}
		for _, m := range index.Manifests {
			if ref := m.Annotations["io.containerd.image.name"]; ref != "" {
				return ref, nil
			}
			if ref := m.Annotations["org.opencontainers.image.ref.name"]; ref != "" {
				return ref, nil
			}
		}
		return "", fmt.Errorf("index.json names no image")
	}
}
