package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fuzzPolicies cover every action of every control.
var fuzzPolicies = []string{
	"",
	"controls:\n  hostMounts: {action: drop}\n  devices: {action: remove}\n",
	"controls:\n  hostMounts: {action: readOnly}\n  seccomp: {unconfined: refuse, localhost: refuse}\n",
	"defaultMode: audit\n",
	"controls:\n  images: {allow: [\"docker.io/*\"], deny: [\"*:latest\"]}\n  hostNamespaces: {deny: [pid, ipc, network, uts]}\n",
}

// FuzzDecide feeds arbitrary OCI specs through the engine. Beyond "no
// panic" it checks the engine's contract: a refusal explains itself, and
// a rewritten container, judged again, needs no further rewrite (the
// rewrites really fix what they claim to fix).
func FuzzDecide(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzDecide.
	engines := make([]*Engine, len(fuzzPolicies))
	for i, p := range fuzzPolicies {
		engines[i] = testEngine(f, p, nil)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		var spec specs.Spec
		if json.Unmarshal(data, &spec) != nil {
			return
		}
		e := engines[int(which)%len(engines)]
		c := view.FromSpec("fuzz", &spec, view.SpecSource{})
		d := e.Decide(c)
		switch d.Action {
		case Refuse:
			if !strings.HasPrefix(d.RefusalText(), "nri-guard: refused ") || len(d.Enforced()) == 0 {
				t.Fatalf("refusal without reasons: %q", d.RefusalText())
			}
			if len(d.Rewrites) > 0 {
				t.Fatalf("a refusal with rewrites to make: %+v", d.Rewrites)
			}
		case Rewrite:
			for _, r := range d.Rewrites {
				c.Apply(r)
			}
			again := e.Decide(c)
			for _, f := range again.Findings {
				if f.Verdict == controls.Rewrite {
					t.Fatalf("rewritten container still needs a rewrite: %s", f.Text())
				}
			}
		}
	})
}
