package policy

import (
	"strings"
	"testing"
)

// FuzzParseReference: no input panics; what parses has one full form,
// which parses back to itself; no pattern spans a separator: a
// reference a pattern matches still matches when a component is pushed
// under an extra path component, only if the pattern allows that many.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"busybox", "rancher/klipper-lb:v0.4.13", "registry.example.com:5000/a/b:1",
		"busybox@" + digestA, "[::1]:5000/x/y:1", "localhost/e2e/busybox:1", "a__b/c.d-e--f_g"} {
		f.Add(s, "rancher/*:*")
	}
	f.Fuzz(func(t *testing.T, ref, pattern string) {
		r, err := ParseReference(ref)
		p := ImagePattern(pattern)
		matched := p.Match(ref, []string{DockerHub})
		if err != nil {
			if matched && pattern != "*" {
				t.Fatalf("%q matched %q, which does not parse", pattern, ref)
			}
			return
		}
		again, err := ParseReference(r.String())
		if err != nil || again != r {
			t.Fatalf("%q parses as %+v; its full form %q as %+v, %v", ref, r, r.String(), again, err)
		}
		if !matched || pattern == "*" || strings.Contains(pattern, "**") {
			return
		}
		deeper := r
		deeper.Repository = "x/" + r.Repository
		c, cerr := compileImagePattern(pattern)
		if cerr == nil && len(c.repo) == len(strings.Split(r.Repository, "/")) && p.MatchReference(deeper, []string{DockerHub}) {
			t.Fatalf("%q matches %q and also %q, one component deeper", pattern, r, deeper)
		}
	})
}
