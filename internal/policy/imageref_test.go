package policy

import (
	"strings"
	"testing"
)

const digestA = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseReference(t *testing.T) {
	cases := []struct {
		in   string
		want Reference // zero: must fail
		err  string
	}{
		{in: "busybox", want: Reference{"docker.io", "library/busybox", "latest", ""}},
		{in: "busybox:1.36", want: Reference{"docker.io", "library/busybox", "1.36", ""}},
		{in: "rancher/klipper-lb:v0.4.13", want: Reference{"docker.io", "rancher/klipper-lb", "v0.4.13", ""}},
		{in: "docker.io/rancher/klipper-lb:v0.4.13", want: Reference{"docker.io", "rancher/klipper-lb", "v0.4.13", ""}},
		{in: "index.docker.io/library/busybox", want: Reference{"docker.io", "library/busybox", "latest", ""}},
		{in: "docker.io/busybox", want: Reference{"docker.io", "library/busybox", "latest", ""}},
		// K3s's --system-default-registry with a port; the port is not a tag.
		{in: "registry.example.com:5000/rancher/mirrored-coredns-coredns:1.12.3", want: Reference{"registry.example.com:5000", "rancher/mirrored-coredns-coredns", "1.12.3", ""}},
		{in: "registry.example.com:5000/rancher/klipper-lb", want: Reference{"registry.example.com:5000", "rancher/klipper-lb", "latest", ""}},
		{in: "localhost/e2e/busybox:1", want: Reference{"localhost", "e2e/busybox", "1", ""}},
		{in: "localhost:5000/busybox", want: Reference{"localhost:5000", "busybox", "latest", ""}},
		{in: "Registry.Example.COM/x/y:1", want: Reference{"registry.example.com", "x/y", "1", ""}},
		{in: "[::1]:5000/x/y:1", want: Reference{"[::1]:5000", "x/y", "1", ""}},
		{in: "busybox@" + digestA, want: Reference{"docker.io", "library/busybox", "", digestA}},
		{in: "ghcr.io/a/b:1@" + digestA, want: Reference{"ghcr.io", "a/b", "1", digestA}},
		{in: "evil.example/x/rancher/mirrored-coredns-coredns:1", want: Reference{"evil.example", "x/rancher/mirrored-coredns-coredns", "1", ""}},
		{in: "a__b/c.d-e--f_g", want: Reference{"docker.io", "a__b/c.d-e--f_g", "latest", ""}},
		{in: "", err: "no repository"},
		{in: "Busybox", err: "not a path component"},
		{in: strings.Repeat("a", 64), err: "image ID"},
		{in: "library/Busybox", err: "not a path component"},
		{in: "busybox:", err: "tag"},
		{in: "busybox:-1", err: "tag"},
		{in: "a//b", err: "not a path component"},
		{in: "a/b/", err: "not a path component"},
		{in: "busybox@sha256:abc", err: "64 lower case hex"},
		{in: "busybox@md5:" + strings.Repeat("a", 32), err: "unknown algorithm"},
		{in: "example.com:port/x", err: "port must be a number"},
		{in: "-bad.example/x", err: "not a host name part"},
		{in: "sha256:" + strings.Repeat("a", 64), err: "image ID"},
		{in: strings.Repeat("a", 256), err: "longer than"},
		{in: "x/y:1/z", err: "not a path component"},
	}
	for _, tc := range cases {
		got, err := ParseReference(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseReference(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseReference(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if err == nil {
			again, err := ParseReference(got.String())
			if err != nil || again != got {
				t.Errorf("the full form %q of %q parses as %+v, %v", got.String(), tc.in, again, err)
			}
		}
	}
}

func TestImagePatternMatch(t *testing.T) {
	hub := []string{"docker.io"}
	mirror := []string{"registry.example.com:5000"}
	cases := []struct {
		pattern, ref string
		regs         []string
		want         bool
	}{
		// Unqualified patterns: the system registries only.
		{"rancher/klipper-lb:*", "docker.io/rancher/klipper-lb:v0.4.13", hub, true},
		{"rancher/klipper-lb:*", "rancher/klipper-lb:v0.4.13", hub, true},
		{"rancher/klipper-lb:*", "evil.example/rancher/klipper-lb:v1", hub, false},
		{"rancher/klipper-lb:*", "evil.example/x/rancher/klipper-lb:v1", hub, false},
		{"rancher/klipper-lb:*", "docker.io/x/rancher/klipper-lb:v1", hub, false},
		{"rancher/klipper-lb:*", "docker.io/rancherx/klipper-lb:v1", hub, false},
		{"rancher/klipper-lb:*", "registry.example.com:5000/rancher/klipper-lb:v0.4.13", mirror, true},
		{"rancher/klipper-lb:*", "docker.io/rancher/klipper-lb:v0.4.13", mirror, false},
		{"rancher/klipper-lb:*", "registry.example.com/rancher/klipper-lb:v0.4.13", mirror, false}, // another port is another registry
		// The old preset's spelling: * no longer spans "/".
		{"*rancher/mirrored-coredns-coredns:*", "evil.example/x/rancher/mirrored-coredns-coredns:1", hub, false},
		{"*rancher/mirrored-coredns-coredns:*", "docker.io/rancher/mirrored-coredns-coredns:1.12.3", hub, true},
		// Named registries, globs per part.
		{"docker.io/library/*", "busybox", hub, true},
		{"docker.io/library/*", "docker.io/library/x/y:1", hub, false},
		{"busybox", "docker.io/library/busybox:1.36", nil, false}, // no system registries: unqualified matches nothing
		{"docker.io/busybox:1.*", "busybox:1.36", nil, true},
		{"busybox:1.*", "busybox:2.0", hub, false},
		{"*/evil/*", "evil.example/evil/x:1", hub, true},
		{"*/evil/*", "docker.io/evil/x", hub, true},
		{"*/evil/*", "docker.io/a/evil/x", hub, false},
		{"*.example.com/x/y", "registry.example.com/x/y:1", hub, true},
		{"*.example.com/x/y", "registry.example.com:5000/x/y:1", hub, false},
		{"registry.example.com:*/x/y", "registry.example.com:5000/x/y:1", hub, true},
		{"localhost/e2e/*:1", "localhost/e2e/busybox:1", hub, true},
		{"*", "anything.example/x:1", nil, true},
		{"*:latest", "ghcr.io/a/b/c", nil, true},
		{"*:latest", "busybox:1", hub, false},
		{"*@" + digestA, "x.io/a@" + digestA, nil, true},
		{"*@" + digestA, "x.io/a:1", nil, false},
		// Digests: wanted only when the pattern names one.
		{"busybox@" + digestA, "busybox@" + digestA, hub, true},
		{"busybox@" + digestA, "busybox:1.36", hub, false},
		{"busybox:1.36@" + digestA, "docker.io/library/busybox:1.36@" + digestA, hub, true},
		{"busybox@sha256:*", "busybox@" + digestA, hub, true},
		{"busybox", "busybox@" + digestA, hub, true},
		{"busybox:*", "busybox@" + digestA, hub, false}, // a tag pattern wants a tag
		// What does not parse matches nothing.
		{"*", "", nil, true},
		{"busybox", "sha256:" + strings.Repeat("a", 64), hub, false},
	}
	for _, tc := range cases {
		got := ImagePattern(tc.pattern).Match(tc.ref, tc.regs)
		if tc.ref == "" {
			continue // the selectors refuse an unknown image before matching
		}
		if got != tc.want {
			t.Errorf("%q matches %q (system registries %v) = %v, want %v", tc.pattern, tc.ref, tc.regs, got, tc.want)
		}
	}
}

func TestImagePatternErrors(t *testing.T) {
	for pattern, want := range map[string]string{
		"":                      "empty",
		"Rancher/klipper-lb":    "never matches",
		"rancher//klipper-lb":   "empty path component",
		"rancher/klipper-lb:":   "tag",
		"rancher/kl/ipper:a/b":  "not a repository path component",
		"busybox@sha256:abc":    "64 lower case hex",
		"busybox@nodigest":      "algorithm:hex",
		"example.com:x/y":       "port must be a number",
		"rancher/Kl*":           "never matches",
		"rancher/klipper-lb:$*": "never matches",
		"*.exa_mple.com/x":      "registry pattern",
		"example.com/":          "no repository",
	} {
		err := ImagePattern("").check(pattern)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("pattern %q: %v, want an error with %q", pattern, err, want)
		}
	}
	for _, ok := range []string{"*", "rancher/klipper-lb:*", "*/evil/*", "docker.io/library/*", "busybox@sha256:*", "registry.example.com:5000/x/*:v?.*"} {
		if err := ImagePattern("").check(ok); err != nil {
			t.Errorf("pattern %q: %v", ok, err)
		}
	}
}

func TestRegistryCheck(t *testing.T) {
	for _, ok := range []string{"docker.io", "registry.example.com:5000", "localhost", "10.0.0.1:5000", "[::1]:5000"} {
		if err := Registry("").check(ok); err != nil {
			t.Errorf("registry %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "x:", "x:99999999", "-x.io", "a..b"} {
		if err := Registry("").check(bad); err == nil {
			t.Errorf("registry %q accepted", bad)
		}
	}
}

// TestTagPatternIgnoresATagBesideADigest: containerd runs
// "repo:tag@digest" by the digest, so a tag pattern must not be met by a
// reference that names any digest of the repository beside the tag (red
// team: myorg/agent:2.0@<the debug build's digest> met a 2.0 pin).
func TestTagPatternIgnoresATagBesideADigest(t *testing.T) {
	digest := "sha256:" + strings.Repeat("e", 64)
	for _, c := range []struct {
		pattern, ref string
		want         bool
	}{
		{"docker.io/myorg/agent:2.0", "docker.io/myorg/agent:2.0@" + digest, false},
		{"docker.io/myorg/agent:2.*", "docker.io/myorg/agent:2.0@" + digest, false},
		{"docker.io/myorg/agent:*", "docker.io/myorg/agent:2.0@" + digest, true},
		{"docker.io/myorg/agent", "docker.io/myorg/agent:2.0@" + digest, true},
		{"docker.io/myorg/agent@" + digest, "docker.io/myorg/agent:2.0@" + digest, true},
		{"docker.io/myorg/agent:2.0", "docker.io/myorg/agent:2.0", true},
	} {
		if got := ImagePattern(c.pattern).Match(c.ref, []string{DockerHub}); got != c.want {
			t.Errorf("%q matches %q: %v, want %v", c.pattern, c.ref, got, c.want)
		}
	}
}
