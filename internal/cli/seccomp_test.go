package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// specWith is the test spec without its host mount and with filter as
// its seccomp profile.
func specWith(t *testing.T, filter string) string {
	t.Helper()
	s := strings.Replace(spec, `"mounts":[{"destination":"/h","type":"bind","source":"/","options":["rbind","rw"]}],`, "", 1)
	s = strings.Replace(s, `"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}`, `"seccomp":`+filter, 1)
	if s == spec {
		t.Fatal("spec template changed")
	}
	return s
}

// The digest `seccomp digest` prints for a file is the one check (the
// runtime wrapper's judgement) computes from the same filter in a spec:
// listed in seccomp.allowProfiles it lets a weak profile through that
// localhost: confining otherwise refuses.
func TestSeccompDigestAllowsWhatCheckRefuses(t *testing.T) {
	weakFile := filepath.Join("..", "profiles", "testdata", "minimum", "allow-by-default.json")
	raw, err := os.ReadFile(weakFile)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "seccomp", "digest", weakFile)
	if code != 0 || !strings.Contains(out, "lets through 50 escape-critical calls") || !strings.Contains(out, "unshare              default action SCMP_ACT_ALLOW on x86_64") {
		t.Fatalf("digest: exit %d\n%s%s", code, out, errOut)
	}
	digest := strings.Fields(out)[0]

	dir := t.TempDir()
	specFile := writeFile(t, dir, "config.json", specWith(t, string(raw)))
	confining := basePolicy + "controls:\n  seccomp:\n    localhost: confining\n"
	code, out, _ = run(t, "check", "--policy", writeFile(t, dir, "p.yaml", confining), "--policy-dir", "", specFile)
	if code != 1 || !strings.Contains(out, "seccomp: linux.seccomp = filter in the spec ("+digest+"): the profile does not confine") ||
		!strings.Contains(out, "seccomp filter "+digest+": of unknown origin") {
		t.Fatalf("weak filter: exit %d\n%s", code, out)
	}
	listed := confining + "    allowProfiles: [" + digest + "]\n"
	if code, out, _ = run(t, "check", "--policy", writeFile(t, dir, "l.yaml", listed), "--policy-dir", "", specFile); code != 0 {
		t.Fatalf("listed: exit %d\n%s", code, out)
	}
	if code, out, _ = run(t, "check", "--policy", writeFile(t, dir, "a.yaml", basePolicy), "--policy-dir", "", specFile); code != 0 {
		t.Fatalf("localhost: allow: exit %d\n%s", code, out)
	}

	builtin := filepath.Join("..", "..", "profiles", "seccomp", "default.json")
	if code, out, _ = run(t, "seccomp", "digest", builtin); code != 0 || !strings.Contains(out, "refuses the minimum set") {
		t.Fatalf("built-in: exit %d\n%s", code, out)
	}
	if code, _, errOut = run(t, "seccomp", "digest", writeFile(t, dir, "bad.json", "{")); code != 1 || !strings.Contains(errOut, "bad.json") {
		t.Fatalf("bad file: exit %d %s", code, errOut)
	}
	if code, _, _ = run(t, "seccomp"); code != 2 {
		t.Fatal("seccomp without digest must be a usage error")
	}
}
