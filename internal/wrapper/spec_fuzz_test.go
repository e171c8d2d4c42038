package wrapper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/subpath"
	"github.com/nri-guard/nri-guard/internal/view"
)

// FuzzReadSpec: whatever a bundle's config.json holds, reading it never
// panics, an unreadable one is an error naming the file, and one that
// reads is judged as the wrapper judges it (its view of the node's
// namespaces and kubelet's subPaths) into a decision: a refusal with its
// reasons and no rewrites, or rewrites that leave nothing to rewrite. Seeds are in
// testdata/fuzz/FuzzReadSpec.
func FuzzReadSpec(f *testing.F) {
	pol, err := policy.Parse(policy.Input{Name: "fuzz.yaml", Data: []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\ndefaultMode: enforce\npresets: [restricted]\ncontrols:\n  runAsRoot: {mode: enforce, action: remap}\n")})
	if err != nil {
		f.Fatal(err)
	}
	eng := engine.New(pol, nil, controls.SeesEverything("the runtime wrapper"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "config.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		spec, _, err := readSpec(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		c := view.FromSpec("fuzz", spec, view.SpecSource{IsHostNamespace: view.HostNamespaceChecker(), ResolveSubPath: subpath.HostPath})
		d := eng.Decide(c)
		switch d.Action {
		case engine.Refuse:
			if !strings.HasPrefix(d.RefusalText(), "nri-guard: refused ") || len(d.Enforced()) == 0 {
				t.Fatalf("a refusal without reasons: %q", d.RefusalText())
			}
			if len(d.Rewrites) > 0 {
				t.Fatalf("a refused container comes with rewrites to make: %+v", d.Rewrites)
			}
		case engine.Rewrite:
			for _, r := range d.Rewrites {
				c.Apply(r)
			}
			for _, f := range eng.Decide(c).Findings {
				if f.Verdict == controls.Rewrite {
					t.Fatalf("a rewritten container still needs a rewrite: %s", f.Text())
				}
			}
		}
	})
}
