package policy

import (
	"strings"
	"testing"
)

func TestMountTypesSettings(t *testing.T) {
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + "controls:\n  mountTypes:\n    allow: [nfs4, fuse.*]\n")})
	if err != nil {
		t.Fatal(err)
	}
	mt := p.Controls.MountTypes
	if mt.Mode.Value != Enforce || len(mt.Allow.Value) != 2 || mt.Allow.Source.String() != "p.yaml:5" {
		t.Errorf("mountTypes = %+v", mt)
	}
	for _, tc := range []struct{ doc, want string }{
		{"controls:\n  mountTypes:\n    allow: nfs4\n", `p.yaml:5:12: controls.mountTypes.allow: want a list`},
		{"controls:\n  mountTypes:\n    allow: [\"\"]\n", `p.yaml:5:13: controls.mountTypes.allow[0]: empty pattern`},
		{"controls:\n  mountTypes:\n    mode: strict\n", `p.yaml:5:11: controls.mountTypes.mode: unknown value "strict"`},
	} {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + tc.doc)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error\n%v\nlacks\n%s", err, tc.want)
		}
	}
}
