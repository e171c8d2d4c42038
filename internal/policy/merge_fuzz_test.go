package policy

import (
	"io"
	"os"
	"path"
	"strings"
	"testing"
)

// FuzzMerge: two drop-ins laid over the base in lexical order never
// panic the loader; an error names the file it is in and yields no
// policy; a policy that loads can be shown and selected from. Seeds are
// in testdata/fuzz/FuzzMerge.
func FuzzMerge(f *testing.F) {
	base, err := os.ReadFile("testdata/base.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		p, err := Parse(Input{Name: "base.yaml", Data: base}, Input{Name: "policy.d/10-a.yaml", Data: first}, Input{Name: "policy.d/20-b.yaml", Data: second})
		if err != nil {
			if p != nil {
				t.Fatal("an error and a policy")
			}
			if !strings.Contains(err.Error(), ".yaml") {
				t.Fatalf("the error names no file: %v", err)
			}
			return
		}
		p.Show(io.Discard)
		p.For(Workload{Namespace: "kube-system", Pod: "a", Container: "b", Image: "c", Labels: map[string]string{"k": "v"}})
	})
}

// FuzzCleanHostPath: whatever a pod names, the cleaned path is absolute,
// clean, never below /var/run (the link to /run), and cleaning it again
// changes nothing, so every rule sees one spelling of each place. Seeds
// are in testdata/fuzz/FuzzCleanHostPath.
func FuzzCleanHostPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, p string) {
		got := CleanHostPath(p)
		switch {
		case !strings.HasPrefix(got, "/"):
			t.Fatalf("%q: %q is not absolute", p, got)
		case path.Clean(got) != got:
			t.Fatalf("%q: %q is not clean", p, got)
		case got == "/var/run" || strings.HasPrefix(got, "/var/run/"):
			t.Fatalf("%q: %q is still below /var/run", p, got)
		case CleanHostPath(got) != got:
			t.Fatalf("%q: cleaning %q again gives %q", p, got, CleanHostPath(got))
		}
	})
}
