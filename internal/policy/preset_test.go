package policy

import (
	"bytes"
	"strings"
	"testing"
)

func TestEveryPresetLoadsAlone(t *testing.T) {
	names := PresetNames()
	if strings.Join(names, ",") != "baseline,k3s-system,restricted" {
		t.Fatalf("presets = %v", names)
	}
	for _, name := range names {
		if _, err := ParseWith([]PresetName{PresetName(name)}); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
}

func TestPresetLiesUnderTheFiles(t *testing.T) {
	doc := header3 + "presets: [restricted, k3s-system]\ncontrols:\n  runAsRoot:\n    mode: audit\n"
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Presets, ","); got != "profiles/policy/restricted.yaml,profiles/policy/k3s-system.yaml" {
		t.Errorf("presets = %s", got)
	}
	if len(p.Files) != 1 || p.Files[0] != "p.yaml" {
		t.Errorf("files = %v: presets are not files on the node", p.Files)
	}
	if m := p.Controls.RunAsRoot.Mode; m.Value != Audit || m.Source.String() != "p.yaml:6" {
		t.Errorf("runAsRoot.mode = %s from %s, want the file's audit", m.Value, m.Source)
	}
	caps := p.Controls.Capabilities.Allow
	if len(caps.Value) != 1 || !strings.HasPrefix(caps.Source.String(), "profiles/policy/restricted.yaml:") {
		t.Errorf("capabilities.allow = %v from %s, want the preset's", caps.Value, caps.Source)
	}
	if len(p.Exceptions) == 0 || !strings.HasPrefix(p.Exceptions[0].Source.String(), "profiles/policy/k3s-system.yaml:") {
		t.Errorf("exceptions from k3s-system missing or without source")
	}
	var out bytes.Buffer
	p.Show(&out)
	if !strings.Contains(out.String(), "merged from (in order): profiles/policy/restricted.yaml, profiles/policy/k3s-system.yaml, p.yaml") {
		t.Errorf("show does not name the presets:\n%s", out.String()[:200])
	}
}

func TestFileReplacesPresetExceptionByName(t *testing.T) {
	doc := header3 + "presets: [restricted, k3s-system]\nexceptions:\n  - name: k3s-local-path-helper\n    match: {namespaces: [storage]}\n"
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Exceptions {
		if e.Name == "k3s-local-path-helper" && e.Source.File != "p.yaml" {
			t.Errorf("the file's exception did not replace the preset's: %s", e.Source)
		}
	}
}

func TestPresetErrors(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"unknown preset", header3 + "presets: [strict]\n",
			`p.yaml:3:11: presets[0]: unknown value "strict"; want one of: baseline, k3s-system, restricted`},
		{"not a list", header3 + "presets: restricted\n", `p.yaml:3:10: presets: want a list, got the value "restricted"`},
	}
	for _, tc := range cases {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(tc.doc)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error\n%v\nlacks\n%s", tc.name, err, tc.want)
		}
	}
	_, errs := parsePresets([]Input{{Name: "x.yaml", Data: []byte(header3 + "presets: [baseline]\n")}})
	if len(errs) != 1 || !strings.Contains(errs.Error(), "x.yaml: presets: a preset cannot name other presets") {
		t.Errorf("nested presets: %v", errs)
	}
	if _, err := ParseWith(nil); err == nil {
		t.Error("no file and no preset must be an error")
	}
}
