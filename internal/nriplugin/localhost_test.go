package nriplugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/profiles"
)

// A Localhost profile under seccomp.localhost: confining, over real
// ttrpc: containerd 2.2 shows only the ref, so the plugin reads the file
// itself; 2.3+ also shows the filter, which is judged as shown.
func TestLocalhostProfileMustConfine(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	testdata := filepath.Join("..", "profiles", "testdata", "minimum")
	weak, err := filepath.Abs(filepath.Join(testdata, "allow-by-default.json"))
	if err != nil {
		t.Fatal(err)
	}
	strong, _ := filepath.Abs(filepath.Join(testdata, "confining.json"))
	withRef := func(id, ref string, shown bool) *api.Container {
		c := testContainer(id)
		c.Linux.SeccompProfile = &api.SecurityProfile{ProfileType: api.SecurityProfile_LOCALHOST, LocalhostRef: ref}
		if shown {
			raw, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			p, err := profiles.DecodeAsRuntime(raw)
			if err != nil {
				t.Fatal(err)
			}
			c.Linux.SeccompPolicy = api.FromOCILinuxSeccomp(p)
		}
		return c
	}
	pod := testPod("confining", "app")
	for _, shown := range []bool{false, true} {
		_, err := h.create(pod, withRef("weak", weak, shown))
		if err == nil || !strings.Contains(err.Error(), "seccomp: linux.seccomp = Localhost "+weak+" (sha256:") ||
			!strings.Contains(err.Error(), "the profile does not confine: it lets through 50 escape-critical calls") {
			t.Fatalf("weak profile (filter shown %v): %v", shown, err)
		}
		if _, err := h.create(pod, withRef("strong", strong, shown)); err != nil {
			t.Fatalf("confining profile (filter shown %v): %v", shown, err)
		}
		// Other pods keep the default, localhost: allow.
		if _, err := h.create(testPod("default", "app"), withRef("weak", weak, shown)); err != nil {
			t.Fatalf("weak profile under localhost: allow: %v", err)
		}
	}
	if _, err := h.create(pod, withRef("rel", "profiles/weak.json", false)); err == nil || !strings.Contains(err.Error(), "is not an absolute path") {
		t.Fatalf("relative ref: %v", err)
	}
	if _, err := h.create(pod, withRef("gone", filepath.Join(h.dir, "gone.json"), false)); err == nil || !strings.Contains(err.Error(), "the profile cannot be judged (reading Localhost profile: open") {
		t.Fatalf("missing file: %v", err)
	}
}
