package check_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/check"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/kubepod"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/policy"
)

// TestK3sComponents: pods modelled on K3s's packaged components
// (testdata/k3s) run under restricted with k3s-system, and the components
// that need an exception are refused under restricted alone, by the
// control the exception relaxes.
func TestK3sComponents(t *testing.T) {
	cases := []struct {
		file string
		// refusedAlone is the control that refuses it under restricted
		// alone ("" when it needs no exception).
		refusedAlone string
	}{
		{"coredns.yaml", "run-as-root"},
		{"svclb.yaml", "capabilities"},
		{"local-path-helper.yaml", "host-path-volumes"},
		{"helm-install.yaml", ""},
	}
	withK3s := presetEngine(t, false, "restricted", "k3s-system")
	alone := presetEngine(t, false, "restricted")
	for _, tc := range cases {
		if refused := refusals(t, withK3s, tc.file); len(refused) > 0 {
			t.Errorf("%s under restricted + k3s-system: refused by %v", tc.file, refused)
		}
		refused := refusals(t, alone, tc.file)
		if got := strings.Join(refused, ","); (tc.refusedAlone == "") != (got == "") || !strings.Contains(got, tc.refusedAlone) {
			t.Errorf("%s under restricted alone: refused by %q, want %q", tc.file, got, tc.refusedAlone)
		}
	}
}

// presetEngine judges under the presets alone, on a node that enforces
// AppArmor and SELinux when lsms is set.
func presetEngine(t *testing.T, lsms bool, presets ...policy.PresetName) *engine.Engine {
	pol, env, err := loader.LoadWith(presets, "", "")
	if err != nil {
		t.Fatal(err)
	}
	caller := controls.SeesEverything("test")
	caller.AppArmor, caller.SELinux = lsms, lsms
	return engine.New(pol, env, caller)
}

// refusals lists the controls that refuse any container of the manifest.
func refusals(t *testing.T, eng *engine.Engine, file string) []string {
	path := filepath.Join("testdata", "k3s", file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	results, err := check.JudgeManifest(path, data, eng, kubepod.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range results {
		for _, f := range r.Decision.Enforced() {
			if f.Verdict == controls.Refuse {
				out = append(out, f.Control)
			}
		}
	}
	return out
}
