package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withImage(ref string) *view.Container {
	return ctr(func(c *view.Container) { c.Image = ref })
}

func TestImages(t *testing.T) {
	rules := "images:\n  allow: [\"docker.io/library/*\", \"registry.k8s.io/*\"]\n  deny: [\"*:latest\"]\n"
	runTable(t, Images{}, []testCase{
		{name: "no rules, anything passes", c: withImage("")},
		{name: "allowed image passes", policy: rules, c: withImage("docker.io/library/busybox:1.36")},
		{name: "image outside the allowlist refused", policy: rules, c: withImage("ghcr.io/evil/miner:1"),
			want: []string{"images: image = ghcr.io/evil/miner:1: image is not in the allowlist, by rule images.allow (test.yaml:5)"}},
		{name: "deny wins over allow", policy: rules, c: withImage("docker.io/library/busybox:latest"),
			want: []string{"image is denied, by rule images.deny (test.yaml:6)"}},
		{name: "unknown image fails closed", policy: rules, c: withImage(""),
			want: []string{"image = (not reported by the runtime): the image is unknown"}},
	})
}
