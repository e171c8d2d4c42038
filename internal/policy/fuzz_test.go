package policy

import (
	"io"
	"os"
	"testing"
)

// FuzzParse: no input may panic the loader, and whatever loads must be
// complete enough to show and to select from.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/base.yaml", "testdata/policy.d/20-node-exporter.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(Input{Name: "fuzz.yaml", Data: data})
		if err != nil {
			if p != nil {
				t.Fatal("error with a policy")
			}
			return
		}
		p.Show(io.Discard)
		p.For(Workload{Namespace: "kube-system", Pod: "a", Container: "b", Image: "c", Labels: map[string]string{"k": "v"}})
	})
}
