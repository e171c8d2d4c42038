package view

import (
	"strings"
	"testing"
)

// FuzzOverlayLayers: whatever paths a plugin names, escaping them as
// overlayfs wants and joining them into one lowerdir option gives back
// exactly those paths, so no layer hides from the host-mount rules.
// Seeds are in testdata/fuzz/FuzzOverlayLayers.
func FuzzOverlayLayers(f *testing.F) {
	f.Add("/etc\x00/var/lib/kubelet")
	f.Add("/a:b\x00/c,d\x00/e\\f")
	f.Fuzz(func(t *testing.T, joined string) {
		var want, escaped []string
		for _, p := range strings.Split(joined, "\x00") {
			if p == "" {
				continue
			}
			want = append(want, p)
			escaped = append(escaped, strings.NewReplacer(`\`, `\\`, ":", `\:`, ",", `\,`).Replace(p))
		}
		m := Mount{Type: "overlay", Options: []string{"lowerdir=" + strings.Join(escaped, ":")}}
		got := m.HostPaths()
		if len(got) != len(want) {
			t.Fatalf("%q: %d layers, want %d: %+v", joined, len(got), len(want), got)
		}
		for i := range got {
			if got[i].Path != want[i] || got[i].Field != "lowerdir" || !got[i].ReadOnly {
				t.Fatalf("%q: layer %d is %+v, want %q", joined, i, got[i], want[i])
			}
		}
	})
}
