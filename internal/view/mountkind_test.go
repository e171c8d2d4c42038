package view

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestMountKinds reads testdata/mount-kinds.json: OCI mounts as runtimes
// and hostile plugins write them, each with what the kernel will make of
// it and the host paths it reaches.
func TestMountKinds(t *testing.T) {
	raw, err := os.ReadFile("testdata/mount-kinds.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name      string          `json:"name"`
		Mount     specs.Mount     `json:"mount"`
		Kind      string          `json:"kind"`
		HostPaths []MountHostPath `json:"hostPaths"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			spec := &specs.Spec{Mounts: []specs.Mount{tc.Mount}}
			m := FromSpec("id", spec, SpecSource{}).Mounts[0]
			if got := m.Kind().String(); got != tc.Kind {
				t.Errorf("kind %s, want %s", got, tc.Kind)
			}
			if got := m.HostPaths(); !reflect.DeepEqual(got, tc.HostPaths) {
				t.Errorf("host paths\n  %+v\nwant\n  %+v", got, tc.HostPaths)
			}
		})
	}
}

func TestCleanDestination(t *testing.T) {
	for in, want := range map[string]string{"/proc/": "/proc", "/sys/../proc": "/proc", "//dev//pts": "/dev/pts", "proc": "/proc", "": "/"} {
		m := Mount{Destination: in}
		if got := m.CleanDestination(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
