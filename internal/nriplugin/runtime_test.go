package nriplugin

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
)

func TestDetectRuntime(t *testing.T) {
	cases := []struct {
		name, version, nri string
		validation, sysctl bool
	}{
		{"containerd", "v2.4.2", "", true, true},
		{"containerd", "2.2.9+unknown", "", true, false}, // built from source, as in e2e
		{"containerd", "v2.2.0-k3s1", "", true, false},   // K3s's suffix is no pre-release
		{"containerd", "v2.3.4-k3s1", "v0.12.0", true, true},
		{"containerd", "v2.1.9", "", false, false},
		{"containerd", "2.1.9+unknown", "", false, false},
		{"containerd", "v2.0.5", "", false, false},
		{"cri-o", "v1.30.0", "", false, false},
		{"cri-o", "v1.34.0", "v0.11.0", true, false},
		{"unknown-runtime", "v9.9.9", "", false, false},
	}
	for _, tc := range cases {
		rt := detectRuntime(tc.name, tc.version, tc.nri)
		if rt.Caps[controls.CapValidation] != tc.validation || rt.Caps[controls.CapSeccompAdjustment] != tc.validation || rt.SysctlsKnown != tc.sysctl {
			t.Errorf("%s %s (NRI %q): validation=%v sysctls=%v, want %v %v", tc.name, tc.version, tc.nri, rt.Caps[controls.CapValidation], rt.SysctlsKnown, tc.validation, tc.sysctl)
		}
	}
	rt := detectRuntime("containerd", "v2.1.9", "")
	summary := rt.Summary(rt.Caller("10-nri-guard").Unavailable())
	for _, want := range []string{"runtime containerd v2.1.9, NRI v0.8.0", "UNAVAILABLE on this runtime: seccomp", "plugins (containerd v2.1.9 (NRI v0.8.0) has no validation)", "left to the runtime wrapper (NRI cannot see them): capabilities, privileged"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q: %s", want, summary)
		}
	}
}

// TestImageWarning: before containerd 2.4 the image an exception matches
// is the CRI client's word, and the start-up log says which exceptions
// rest on it.
func TestImageWarning(t *testing.T) {
	for version, warn := range map[string]bool{"v2.4.2": false, "2.4.0+unknown": false, "v2.3.4-k3s1": true, "v2.2.9": true} {
		got := detectRuntime("containerd", version, "").ImageWarning([]string{"k3s-coredns"})
		if (got != "") != warn || warn && !strings.Contains(got, "exceptions k3s-coredns match by the image name the CRI client sent") {
			t.Errorf("%s: %q", version, got)
		}
	}
	if got := detectRuntime("containerd", "v2.2.9", "").ImageWarning(nil); got != "" {
		t.Errorf("no exception by image, yet: %q", got)
	}
}
