package policy

import (
	"bytes"
	"strings"
	"testing"
)

func TestRuntimeHandlersDefaultsAndShow(t *testing.T) {
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(header3)})
	if err != nil {
		t.Fatal(err)
	}
	rh := p.Controls.RuntimeHandlers
	if rh.Mode.Value != Enforce || len(rh.Guarded.Value) != 2 || rh.Guarded.Value[0] != "" || rh.Guarded.Value[1] != "runc" || len(rh.Isolated.Value) != 0 {
		t.Fatalf("defaults: %+v", rh)
	}
	p, err = Parse(Input{Name: "p.yaml", Data: []byte(header3 + "controls:\n  runtimeHandlers:\n    guarded: [\"\", runc, crun]\n    isolated: [kata]\n")})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p.Show(&b)
	for _, want := range []string{`guarded: ["", runc, crun]`, "# p.yaml:5", "isolated: [kata]", "# p.yaml:6"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("policy show lacks %q:\n%s", want, b.String())
		}
	}
}

func TestRuntimeHandlersBadInput(t *testing.T) {
	for doc, want := range map[string]string{
		"controls:\n  runtimeHandlers:\n    guarded: [/usr/bin/crun]\n":             `p.yaml:5:15: controls.runtimeHandlers.guarded[0]: runtime handler "/usr/bin/crun": want the name of a runtime in containerd's configuration (runtimes.NAME, e.g. crun), not a path or a command`,
		"controls:\n  runtimeHandlers:\n    isolated: kata\n":                       `p.yaml:5:15: controls.runtimeHandlers.isolated: want a list, got the value "kata"`,
		"controls:\n  runtimeHandlers:\n    isolated: [kata qemu]\n":                `p.yaml:5:16: controls.runtimeHandlers.isolated[0]: runtime handler "kata qemu"`,
		"controls:\n  runtimeHandlers:\n    guarded: [runc]\n    wrapped: [crun]\n": `p.yaml:6:5: controls.runtimeHandlers.wrapped: unknown field; known fields here: guarded, isolated, mode`,
	} {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + doc)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %s", doc, err, want)
		}
	}
}
