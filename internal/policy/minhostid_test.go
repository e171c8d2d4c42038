package policy

import (
	"bytes"
	"strings"
	"testing"
)

func TestMinHostID(t *testing.T) {
	head := "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(head)})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Controls.UserNamespaces.MinHostID; got.Value != DefaultMinHostID || got.Source != BuiltIn {
		t.Fatalf("default %+v", got)
	}
	var out bytes.Buffer
	p.Show(&out)
	if !strings.Contains(out.String(), "minHostID: 65536") {
		t.Fatalf("policy show lacks minHostID:\n%s", out.String())
	}
	p, err = Parse(Input{Name: "p.yaml", Data: []byte(head + "controls:\n  userNamespaces:\n    minHostID: 1000000\n")})
	if err != nil || p.Controls.UserNamespaces.MinHostID.Value != 1000000 || p.Controls.UserNamespaces.MinHostID.Source.Line != 5 {
		t.Fatalf("%v %+v", err, p.Controls.UserNamespaces.MinHostID)
	}
	for _, bad := range []string{"-1", "65536x", "4294967296", "[1]", "high"} {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(head + "controls:\n  userNamespaces:\n    minHostID: " + bad + "\n")})
		if err == nil || !strings.Contains(err.Error(), "p.yaml:5:") || !strings.Contains(err.Error(), "controls.userNamespaces.minHostID") {
			t.Errorf("minHostID: %s: %v", bad, err)
		}
	}
}
