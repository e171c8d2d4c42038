//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/profiles"
)

// TestLocalhostProfileMustConfine: under the restricted preset (with
// k3s-system), a restricted-compliant container (uid 1000, no
// capabilities, no_new_privs) asks for a Localhost profile that is a real
// file on the node. A profile that allows by default and denies a dozen
// unrelated calls is refused, naming the profile, its digest and the
// calls it lets through; without the check the container runs and makes
// itself root of a new user namespace (`unshare -U -r`), the first step
// to mount and kernel attacks. The built-in profile given as a Localhost
// file (meets the minimum set) runs and refuses unshare; a weak profile
// listed by digest in seccomp.allowProfiles runs, which also shows that
// the NRI plugin (file or NRI view) and the runtime wrapper (config.json)
// compute the digest `nri-guard seccomp digest` prints; RuntimeDefault
// still runs through the wrapper's judgement of config.json.
func TestLocalhostProfileMustConfine(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	weak := readRepoFile(t, "internal/profiles/testdata/minimum/allow-by-default.json")
	// Another weak profile, listed by digest: the same with one more call denied.
	listed := strings.Replace(weak, `"acct", `, `"acct", "bdflush", `, 1)
	listedFilter, err := profiles.DecodeAsRuntime([]byte(listed))
	must(t, err)
	digest := profiles.Digest(listedFilter)

	polDir := t.TempDir()
	polFile := filepath.Join(polDir, "policy.yaml")
	must(t, os.WriteFile(polFile, []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\npresets: [restricted, k3s-system]\n"+
		"controls:\n  seccomp:\n    allowProfiles: ["+digest+"]\n"), 0o644))

	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnvWith(t, v, "external", policyRef{File: polFile})
		tag := strings.ReplaceAll(v, ".", "")
		// kubelet hands containerd an absolute path below its seccomp
		// root; containerd reads exactly that file.
		root := e.path("seccomp")
		must(t, os.MkdirAll(root, 0o755))
		files := map[string]string{
			"weak.json":    weak,
			"listed.json":  listed,
			"default.json": readRepoFile(t, "profiles/seccomp/default.json"),
		}
		for name, text := range files {
			must(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
		}
		localhost := func(name string) map[string]any {
			return restrictedWith(map[string]any{"profile_type": 2, "localhost_ref": filepath.Join(root, name)})
		}

		p := e.newPod("e2e", "seccomp-weak-"+tag, false)
		defer p.remove()
		// The NRI plugin refuses the creation; on 2.1 the wrapper
		// refuses the start (runc create).
		id, err := p.create(localhost("weak.json"))
		if err == nil {
			err = startErr(e, id)
		}
		if err == nil {
			out, uerr := e.crictl("exec", id, "unshare", "-U", "-r", "id", "-u")
			t.Fatalf("the weak Localhost profile was not refused; inside, unshare -U -r id -u gave %q (%v)", out, uerr)
		}
		// containerd 2.1 takes no seccomp adjustment, so the plugin
		// leaves seccomp to the runtime wrapper, which judges the
		// filter in config.json.
		judged := "seccomp: linux.seccomp = Localhost " + filepath.Join(root, "weak.json") + " (sha256:"
		if !hasValidator(v) {
			judged = "seccomp: linux.seccomp = filter in the spec (sha256:"
		}
		for _, want := range []string{
			judged,
			"the profile does not confine: it lets through",
			"unshare", "by rule seccomp.localhost (profiles/policy/restricted.yaml:",
			"list its digest in seccomp.allowProfiles",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal lacks %q:\n%v", want, err)
			}
		}

		t.Logf("refusal: %s", refusal(err))

		good := e.newPod("e2e", "seccomp-default-"+tag, false)
		defer good.remove()
		id = startContainer(t, e, good, localhost("default.json"))
		if out, err := e.crictl("exec", id, "sh", "-c", "echo $((6*7))"); err != nil || out != "42" {
			t.Errorf("a shell under the built-in as a Localhost profile: %q %v", out, err)
		}
		if out, err := e.crictl("exec", id, "unshare", "-U", "-r", "id", "-u"); err == nil {
			t.Errorf("unshare -U under a confining profile succeeded: %q", out)
		}
		if errno := escapeErrnos(t, e, id)["unshare"]; errno != "1" {
			t.Errorf("unshare under a confining profile: errno %s, want 1 (EPERM)", errno)
		}

		ok := e.newPod("e2e", "seccomp-listed-"+tag, false)
		defer ok.remove()
		id = startContainer(t, e, ok, localhost("listed.json"))
		out, err := e.crictl("exec", id, "unshare", "-U", "-r", "id", "-u")
		if err != nil || out != "0" {
			t.Errorf("under the listed profile unshare -U -r id -u: %q %v, want 0 (the admin allowed this profile)", out, err)
		}

		rd := e.newPod("e2e", "seccomp-rd-"+tag, false)
		defer rd.remove()
		id = startContainer(t, e, rd, restrictedWith(map[string]any{"profile_type": 0}))
		if out, err := e.crictl("exec", id, "grep", "Seccomp:", "/proc/1/status"); err != nil || !strings.Contains(out, "2") {
			t.Errorf("RuntimeDefault under the preset: %q %v", out, err)
		}
		t.Logf("containerd %s: weak Localhost refused; built-in as Localhost runs with unshare EPERM; listed %s runs", e.version, digest)
	})
}

// restrictedWith is a container the restricted Standard accepts, with
// the given seccomp profile.
func restrictedWith(seccomp map[string]any) map[string]any {
	return map[string]any{"linux": map[string]any{"security_context": map[string]any{
		"run_as_user":  map[string]any{"value": 1000},
		"run_as_group": map[string]any{"value": 1000}, // restricted refuses group 0 (runAsRoot.rootGroup)
		"no_new_privs": true,
		"capabilities": map[string]any{"drop_capabilities": []any{"ALL"}},
		"seccomp":      seccomp,
	}}}
}

func startErr(e *env, id string) error {
	_, err := e.crictl("start", id)
	return err
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	must(t, err)
	return string(raw)
}
