package controls

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mountFixtures is testdata/mounts.json.
type mountFixtures struct {
	Sets  map[string][]specs.Mount `json:"sets"`
	Cases []struct {
		Name     string        `json:"name"`
		Policy   string        `json:"policy"`
		Set      string        `json:"set"`
		Mounts   []specs.Mount `json:"mounts"`
		AddedBy  string        `json:"addedBy"`
		Sandbox  bool          `json:"sandbox"`
		Want     []string      `json:"want"`
		Verdicts []string      `json:"verdicts"`
	} `json:"cases"`
}

// TestMountFixtures judges the mounts of testdata/mounts.json with every
// control that reads mounts: the runtimes' and kubelet's usual mounts
// pass, each hostile shape is refused by the control that owns it.
func TestMountFixtures(t *testing.T) {
	raw, err := os.ReadFile("testdata/mounts.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx mountFixtures
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	mountControls := []Control{HostMounts{}, HostPathVolumes{}, MountTypes{}}
	for _, tc := range fx.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			mounts := tc.Mounts
			if tc.Set != "" {
				if mounts = fx.Sets[tc.Set]; mounts == nil {
					t.Fatalf("no set %q", tc.Set)
				}
			}
			c := ctr(func(c *view.Container) { c.Sandbox = tc.Sandbox })
			for _, vm := range view.FromSpec("c1", &specs.Spec{Mounts: mounts}, view.SpecSource{}).Mounts {
				vm.AddedBy = tc.AddedBy
				c.Mounts = append(c.Mounts, vm)
			}
			settings := loadControls(t, tc.Policy)
			var got []Finding
			for _, ctl := range mountControls {
				if ctl.Meta().ID == "host-path-volumes" && settings.HostPathVolumes.Mode.Value == "off" {
					continue // the engine skips a control that is off
				}
				got = append(got, ctl.Check(c, settings, testEnv())...)
			}
			if len(got) != len(tc.Want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tc.Want), texts(got))
			}
			for i, f := range got {
				if !strings.Contains(f.Text(), tc.Want[i]) {
					t.Errorf("finding %d:\n  %s\nlacks\n  %s", i, f.Text(), tc.Want[i])
				}
				if tc.Verdicts != nil && f.Verdict.String() != tc.Verdicts[i] {
					t.Errorf("finding %d verdict %v, want %s", i, f.Verdict, tc.Verdicts[i])
				}
			}
		})
	}
}
