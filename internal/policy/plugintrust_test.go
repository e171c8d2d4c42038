package policy

import (
	"strings"
	"testing"
)

func TestPluginTrust(t *testing.T) {
	doc := header3 + "controls:\n  plugins:\n    allowHooksFrom: [20-old]\n    allow:\n      - plugin: 20-gpu\n        fields: [env, cdiDevices, hooks]\n    hookPaths: [/usr/bin/gpu-hook]\n"
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	pl := &p.Controls.Plugins
	for _, tc := range []struct {
		plugin string
		kind   PluginField
		want   bool
	}{
		{"20-gpu", "env", true}, {"20-gpu", "cdiDevices", true}, {"20-gpu", "hooks", true},
		{"20-gpu", "args", false}, {"20-gp", "env", false}, {"30-gpu", "env", false},
		{"20-old", "hooks", true}, {"20-old", "env", false},
	} {
		if got := pl.TrustsPlugin(tc.plugin, tc.kind); got != tc.want {
			t.Errorf("TrustsPlugin(%s, %s) = %v", tc.plugin, tc.kind, got)
		}
	}
	var b strings.Builder
	p.Show(&b)
	for _, want := range []string{
		"allow: [{plugin: 20-gpu, fields: [env, cdiDevices, hooks]}] # p.yaml:7",
		"hookPaths: [/usr/bin/gpu-hook]",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("policy show lacks %q:\n%s", want, b.String())
		}
	}
	def, _ := Parse(Input{Name: "e.yaml", Data: []byte(header3)})
	b.Reset()
	def.Show(&b)
	if !strings.Contains(b.String(), "allow: []") || !strings.Contains(b.String(), "hookPaths: []") {
		t.Errorf("defaults not shown:\n%s", b.String())
	}
}

func TestPluginTrustErrors(t *testing.T) {
	cases := map[string]string{
		"    allow: [{plugin: 20-gpu, fields: [env, hoks]}]\n": `p.yaml:5:44: controls.plugins.allow[0].fields[1]: unknown value "hoks"; want one of: annotations, env, args, hooks,`,
		"    allow: [{plugin: \"\", fields: [env]}]\n":         `p.yaml:5:22: controls.plugins.allow[0].plugin: want an NRI plugin name as index-name (e.g. 20-gpu), got ""`,
		"    allow: [{plugin: 20-gpu, field: [env]}]\n":        `p.yaml:5:30: controls.plugins.allow[0].field: unknown field; known fields here: fields, plugin`,
		"    allow: [{plugin: 20-gpu, fields: [mounts]}]\n":    `unknown value "mounts"`,
		"    hookPaths: [usr/bin/x]\n":                         `p.yaml:5:17: controls.plugins.hookPaths[0]: must be an absolute path, got "usr/bin/x"`,
	}
	for line, want := range cases {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + "controls:\n  plugins:\n" + line)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %s", line, err, want)
		}
	}
}
