//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/profiles"
)

// TestSeccompSameArgumentConditionsAreORed: a Localhost profile that is
// the built-in plus one rule allowing unshare "if arg0 keeps the
// namespace flags clear" and "if arg0 & 0 == 0". runc hands libseccomp a
// rule that names one argument twice as one rule per condition (OR), so
// the second lets unshare through with any flags (the red team made the
// container root of a new user namespace this way under the restricted
// preset). The profile must be refused as not confining; if it ever runs,
// the container tries unshare -U -r.
func TestSeccompSameArgumentConditionsAreORed(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	var prof map[string]any
	must(t, json.Unmarshal([]byte(readRepoFile(t, "profiles/seccomp/default.json")), &prof))
	prof["syscalls"] = append(prof["syscalls"].([]any), map[string]any{
		"names": []any{"unshare"}, "action": "SCMP_ACT_ALLOW",
		"args": []any{
			map[string]any{"index": 0, "value": 0x7E020080, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"},
			map[string]any{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"},
		},
	})
	raw, err := json.Marshal(prof)
	must(t, err)
	filter, err := profiles.DecodeAsRuntime(raw)
	must(t, err)
	t.Logf("Judge on the profile: %v (digest %s)", profiles.Judge(filter, profiles.NativeArch()), profiles.Digest(filter))

	polDir := t.TempDir()
	polFile := filepath.Join(polDir, "policy.yaml")
	must(t, os.WriteFile(polFile, []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\npresets: [restricted, k3s-system]\n"), 0o644))
	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnvWith(t, v, "external", policyRef{File: polFile})
		tag := strings.ReplaceAll(v, ".", "")
		root := e.path("seccomp")
		must(t, os.MkdirAll(root, 0o755))
		must(t, os.WriteFile(filepath.Join(root, "or.json"), raw, 0o644))
		p := e.newPod("e2e", "seccomp-or-"+tag, false)
		defer p.remove()
		spec := restrictedWith(map[string]any{"profile_type": 2, "localhost_ref": filepath.Join(root, "or.json")})
		spec["linux"].(map[string]any)["security_context"].(map[string]any)["run_as_group"] = map[string]any{"value": 1000}
		id, err := p.create(spec)
		if err == nil {
			err = startErr(e, id)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "the profile does not confine") || !strings.Contains(err.Error(), "unshare") {
				t.Fatalf("refused, but not because the profile lets unshare through: %v", err)
			}
			t.Logf("refused: %s", guardText(err.Error()))
			return
		}
		out, uerr := e.crictl("exec", id, "unshare", "-U", "-r", "id", "-u")
		if uerr == nil && out == "0" {
			t.Fatalf("BYPASS on %s: restricted + seccomp.localhost: confining accepted the profile, and inside it unshare -U -r id -u gave %q", e.version, out)
		}
		t.Logf("unshare: %q %v", out, uerr)
	})
}
