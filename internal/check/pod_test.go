package check

import "testing"

func TestIsManifest(t *testing.T) {
	cases := map[string]bool{
		"apiVersion: v1\nkind: Pod\n":                               true,
		"# a comment\n---\napiVersion: apps/v1\nkind: Deployment\n": true,
		`{"apiVersion":"v1","kind":"Pod"}`:                          true,
		`{"ociVersion":"1.2.0","process":{}}`:                       false,
		`{"info":{"runtimeSpec":{}}}`:                               false,
		"kind: Pod\n":                                               false,
		"[1, 2":                                                     false,
		"":                                                          false,
	}
	for in, want := range cases {
		if got := IsManifest([]byte(in)); got != want {
			t.Errorf("IsManifest(%q) = %v, want %v", in, got, want)
		}
	}
}
