package policy

import (
	"strings"
	"testing"
)

// seccomp.localhost and seccomp.allowProfiles are checked with file and
// line, and a good value loads.
func TestSeccompLocalhostSettings(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"controls:\n  seccomp:\n    localhost: confine\n",
			`p.yaml:5:16: controls.seccomp.localhost: unknown value "confine"; want one of: allow, refuse, confining`},
		{"controls:\n  seccomp:\n    allowProfiles: [sha256:ABC]\n",
			`p.yaml:5:21: controls.seccomp.allowProfiles[0]: want sha256: and 64 lower-case hex digits (nri-guard seccomp digest FILE prints it), got "sha256:ABC"`},
		{"controls:\n  seccomp:\n    allowProfiles: [" + strings.Repeat("a", 64) + "]\n",
			`p.yaml:5:21: controls.seccomp.allowProfiles[0]: want sha256: and 64`},
	} {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + c.doc)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v\nwant %s", c.doc, err, c.want)
		}
	}
	digest := "sha256:" + strings.Repeat("0f", 32)
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + "controls:\n  seccomp:\n    localhost: confining\n    allowProfiles: [" + digest + "]\n")})
	if err != nil {
		t.Fatal(err)
	}
	sc := p.Controls.Seccomp
	if sc.Localhost.Value != LocalhostConfining || len(sc.AllowProfiles.Value) != 1 || sc.AllowProfiles.Value[0] != ProfileDigest(digest) {
		t.Fatalf("parsed %+v", sc)
	}
}
