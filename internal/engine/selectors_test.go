package engine

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

const pinnedException = `controls:
  hostNamespaces: {mode: "off"}
  images: {deny: ["*/evil/*"]}
exceptions:
  - name: pinned
    match:
      namespaces: [kube-system]
      images: [library/busybox]
      args: [[/bin/tool, --safe]]
    controls:
      capabilities: {allow: [CAP_NET_ADMIN]}
`

// The wrapper takes the exception from the signed record, and checks the
// command line again: a later NRI plugin may have changed it after the
// plugin chose the exception.
func TestDecideAsChecksTheCommandLine(t *testing.T) {
	eng := testEngine(t, pinnedException, nil)
	c := container(func(c *view.Container) { c.Args = []string{"/bin/tool", "--safe"} })
	if d, err := eng.DecideAs(c, "pinned"); err != nil || d.Exception == nil {
		t.Fatalf("the genuine command line: %v", err)
	}
	if d := eng.Decide(c); d.Exception == nil || d.Exception.Name != "pinned" {
		t.Fatalf("Decide picked %v", d.Exception)
	}
	for _, args := range [][]string{{"/bin/sh"}, {"/bin/tool", "--safe", "--evil"}, nil} {
		c.Args = args
		_, err := eng.DecideAs(c, "pinned")
		if err == nil || !strings.Contains(err.Error(), "match.args") {
			t.Errorf("args %q: %v, want a refusal of the record", args, err)
		}
		if d := eng.Decide(c); d.Exception != nil {
			t.Errorf("args %q: Decide picked %s", args, d.Exception.Name)
		}
	}
}

func TestImagesControlParsesReferences(t *testing.T) {
	eng := testEngine(t, pinnedException, nil)
	for image, refused := range map[string]bool{
		"evil.example/evil/x:1":             true,
		"docker.io/evil/x":                  true,
		"evil/x":                            true, // docker.io/evil/x
		"docker.io/a/evil/x":                false,
		"docker.io/library/busybox:1":       false,
		"Evil/x":                            true, // does not parse: refused while rules exist
		"sha256:" + strings.Repeat("a", 64): true,
	} {
		d := eng.Decide(container(func(c *view.Container) { c.Image = image }))
		got := false
		for _, f := range d.Enforced() {
			got = got || f.Control == "images"
		}
		if got != refused {
			t.Errorf("image %q: refused by images = %v, want %v (%v)", image, got, refused, d.RefusalText())
		}
	}
}
