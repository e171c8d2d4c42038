//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/check"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/kubepod"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/policy"
	"gopkg.in/yaml.v3"
)

// TestPSSFixtures runs every Pod Security Standards fixture
// (k8s.io/pod-security-admission, the same set as the unit conformance
// test) as pods on real containerd under the matching preset, and wants
// the node's answer (refused, or created and started) to be the offline
// check's. The pods are built from the manifests the way kubelet asks
// containerd (CRI), with the e2e busybox image. Only with
// NRI_GUARD_E2E_FIXTURES=1 (make e2e-fixtures): it starts about 300 pods.
func TestPSSFixtures(t *testing.T) {
	if os.Getenv("NRI_GUARD_E2E_FIXTURES") == "" {
		t.Skip("set NRI_GUARD_E2E_FIXTURES=1 (make e2e-fixtures) to run the whole fixture set on containerd")
	}
	dir := psaFixtureDir(t)
	for _, v := range versions {
		for _, level := range []string{"baseline", "restricted"} {
			t.Run(v+"/"+level, func(t *testing.T) { runFixtures(t, v, level, filepath.Join(dir, level, "v1.37")) })
		}
	}
}

func runFixtures(t *testing.T, v, level, dir string) {
	pol := policyRef{File: filepath.Join(repoRoot, "e2e", "policies", "presets", level+".yaml")}
	if level == "restricted" {
		pol.File = filepath.Join(repoRoot, "e2e", "policies", "presets", "policy.yaml")
	}
	e := newEnvWith(t, v, modes[0], pol)
	eng := offlineEngine(t, level)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.yaml"))
	for _, f := range files {
		name := strings.ReplaceAll(level[:1]+"-"+filepath.Base(filepath.Dir(f))+"-"+strings.TrimSuffix(filepath.Base(f), ".yaml"), "_", "-")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer count(t)
			runFixture(t, e, eng, f, name)
		})
	}
}

// runFixture runs one fixture's pod and compares.
func runFixture(t *testing.T, e *env, eng *engine.Engine, file, name string) {
	data, err := os.ReadFile(file)
	must(t, err)
	var p fixturePod
	must(t, yaml.Unmarshal(data, &p))
	if p.Spec.OS.Name == "windows" {
		t.Skip("a Windows pod never reaches a Linux node")
	}
	if why := unsupported(&p); why != "" {
		t.Skip(why)
	}
	want := offlineRefuses(t, eng, file, data)
	got, why := nodeRefuses(e, &p, name)
	if got != want {
		t.Errorf("%s: the node refused=%v (%s), nri-guard check refused=%v", filepath.Base(file), got, why, want)
	}
}

// unsupported names what this node cannot run as the manifest asks.
func unsupported(p *fixturePod) string {
	profiles := []*fixtureSeccomp{p.Spec.SecurityContext.SeccompProfile}
	for _, c := range p.containers() {
		profiles = append(profiles, c.SecurityContext.SeccompProfile)
	}
	for _, prof := range profiles {
		if prof != nil && prof.Type == "Localhost" {
			return "a Localhost seccomp profile, which is not on the e2e node"
		}
	}
	return ""
}

// offlineRefuses is nri-guard check's answer for the pod (what kubelet
// would refuse itself does not count: there is no kubelet here).
func offlineRefuses(t *testing.T, eng *engine.Engine, file string, data []byte) bool {
	results, err := check.JudgeManifest(file, data, eng, kubepod.Options{})
	must(t, err)
	for _, r := range results {
		if r.Decision.Action == engine.Refuse {
			return true
		}
	}
	return false
}

func offlineEngine(t *testing.T, level string) *engine.Engine {
	names := []policy.PresetName{policy.PresetName(level)}
	if level == "restricted" {
		names = append(names, "k3s-system")
	}
	pol, err := policy.ParseWith(names)
	must(t, err)
	env, err := loader.Profiles(pol)
	must(t, err)
	return engine.New(pol, env, controls.OfflineCheck()) // these machines have no AppArmor or SELinux
}

// nodeRefuses runs the pod sandbox and every container; any refusal
// (runp, create or start) is the node's refusal.
func nodeRefuses(e *env, p *fixturePod, name string) (bool, string) {
	pod := e.newPod("default", name, p.Spec.HostNetwork, p.podConfig())
	defer pod.remove()
	if pod.runErr != nil {
		return true, pod.runErr.Error()
	}
	for i, c := range p.containers() {
		cfg := p.containerConfig(c)
		cfg["metadata"] = map[string]any{"name": fmt.Sprintf("c%d", i+1)}
		id, err := pod.create(cfg)
		if err == nil {
			_, err = e.crictl("start", id)
		}
		if err != nil {
			return true, err.Error()
		}
	}
	return false, "created and started"
}

// psaFixtureDir downloads the module with the fixtures.
func psaFixtureDir(t *testing.T) string {
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/pod-security-admission@v0.37.2").Output()
	var info struct{ Dir string }
	if err != nil || json.Unmarshal(out, &info) != nil || info.Dir == "" {
		t.Skipf("cannot download k8s.io/pod-security-admission@v0.37.2: %v", err)
	}
	return filepath.Join(info.Dir, "test", "testdata")
}
