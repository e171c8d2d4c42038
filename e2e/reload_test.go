//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPolicyReload changes a drop-in while containers are being created:
// decisions switch at one point, no creation fails because of the
// reload, and a broken drop-in leaves the last good policy in force, for
// the NRI plugin and for the runtime wrapper alike.
func TestPolicyReload(t *testing.T) {
	v := versions[0]
	defer count(t)
	pol := copiedPolicy(t, defaultPolicy)
	e := newEnvWith(t, v, "external", pol)

	p := e.newPod("reload", "reload-"+strings.ReplaceAll(v, ".", ""), false)
	defer p.remove()
	mount := map[string]any{"mounts": []any{map[string]any{"host_path": "/var/tmp/nri-guard-reload", "container_path": "/data"}}}
	deny := "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\nexceptions:\n  - name: reload-deny\n    match: {namespaces: [reload]}\n    controls:\n      hostMounts: {extraPaths: [/var/tmp/nri-guard-reload]}\n"

	var outcomes []string
	refused := 0
	for i := 0; i < 200 && refused < 5; i++ {
		if i == 5 {
			must(t, os.WriteFile(filepath.Join(pol.Dir, "50-reload.yaml"), []byte(deny), 0o644))
		}
		_, err := p.create(merge(mount, map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("c%d", i)}}))
		switch {
		case err == nil:
			outcomes = append(outcomes, "created")
		case strings.Contains(err.Error(), "hostMounts.extraPaths"):
			outcomes = append(outcomes, "refused")
			refused++
		default:
			t.Fatalf("creation %d failed for another reason during the reload: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	flips := 0
	for i := 1; i < len(outcomes); i++ {
		if outcomes[i] != outcomes[i-1] {
			flips++
		}
	}
	if outcomes[0] != "created" || outcomes[len(outcomes)-1] != "refused" || flips != 1 {
		t.Fatalf("decisions must switch once, from created to refused: %v", outcomes)
	}
	t.Logf("%d creations before the drop-in took effect, %d after", strings.Count(strings.Join(outcomes, " "), "created"), strings.Count(strings.Join(outcomes, " "), "refused"))

	// A broken drop-in: the last good policy (with reload-deny) stays.
	must(t, os.WriteFile(filepath.Join(pol.Dir, "60-broken.yaml"), []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\ndefaultMode: loud\n"), 0o644))
	e.poll("the guard to reject the broken drop-in", 15*time.Second, func() bool {
		return strings.Contains(readFile(e.path("nri-guard.log")), "60-broken.yaml:3:14: defaultMode: unknown value")
	})
	if _, err := p.create(merge(mount, map[string]any{"metadata": map[string]any{"name": "after-broken"}})); err == nil || !strings.Contains(err.Error(), "hostMounts.extraPaths") {
		t.Fatalf("with a broken drop-in the last good policy must stay in force: %v", err)
	}
	// The wrapper reads the files at every create: it falls back too.
	other := e.newPod("e2e", "reload-wrapper-"+strings.ReplaceAll(v, ".", ""), false)
	defer other.remove()
	id, err := other.create(map[string]any{})
	must(t, err)
	if _, err := e.crictl("start", id); err != nil {
		t.Fatalf("the runtime wrapper must fall back to the last good policy: %v", err)
	}
	if !strings.Contains(readFile(e.decisionLog()), "the last good policy was used") {
		t.Fatal("the decision log must say the wrapper used the last good policy")
	}
}
