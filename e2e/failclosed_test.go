//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// validatingVersions are the versions of the matrix with an NRI
// validator (containerd 2.2+): fail-closed needs required_plugins. The
// tests stop and start the guard themselves, so they use external mode;
// NRI_GUARD_E2E_MODES=none (no guard at all) skips them.
func validatingVersions(t *testing.T) []string {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	var out []string
	for _, v := range versions {
		if hasValidator(v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Skip("no containerd 2.2+ in CONTAINERD_VERSIONS")
	}
	return out
}

func containerName(i int) map[string]any {
	return map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("c%d", i)}}
}

// TestFailClosed: with the guard stopped every creation is refused by
// containerd; after containerd restarts the guard reconnects by itself.
func TestFailClosed(t *testing.T) {
	for _, v := range validatingVersions(t) {
		t.Run(v, func(t *testing.T) {
			defer count(t)
			e := newEnv(t, v, "external")
			e.stopGuard(syscall.SIGTERM)
			p := e.newPod("e2e", "guard-down", false)
			defer p.remove()
			for i := 0; i < 3; i++ {
				_, err := p.create(containerName(i))
				// crictl's log quotes the text, so the plugin name comes escaped.
				if err == nil || !strings.Contains(err.Error(), `required plugin`) || !strings.Contains(err.Error(), `nri-guard\" not present`) {
					t.Fatalf("creation %d with the guard down: %v, want refused by the default validator", i, err)
				}
			}

			e.startGuard()
			e.waitGuarded()

			e.stopContainerd()
			start := time.Now()
			e.startContainerd()
			serving := time.Since(start)
			e.waitGuarded()
			t.Logf("containerd %s restart: serving CRI after %s, first guarded creation after %s (the guard reconnected by itself)",
				v, serving.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestGuardKilledMidRun kills the guard while containers are being
// created. Creations after its death must be refused. NRI lets the one
// request in flight through (its "scenario D"), and before NRI v0.12.5
// possibly the first one after an idle death ("scenario E"): at most one
// unguarded creation is tolerated and reported; the runtime wrapper
// (issue 4) is what closes that window.
func TestGuardKilledMidRun(t *testing.T) {
	for _, v := range validatingVersions(t) {
		t.Run(v, func(t *testing.T) {
			defer count(t)
			e := newEnv(t, v, "external")
			p := e.newPod("e2e", "killed-mid-run", false)
			defer p.remove()
			type result struct {
				name    string
				created bool
			}
			results := make(chan result, 100)
			killed := make(chan struct{})
			go func() {
				defer close(results)
				for i := 0; i < 30; i++ {
					if i == 10 {
						go func() { e.stopGuard(syscall.SIGKILL); close(killed) }()
					}
					_, err := p.create(containerName(i))
					results <- result{fmt.Sprintf("c%d", i), err == nil}
				}
			}()
			var created []string
			total := 0
			for r := range results {
				total++
				if r.created {
					created = append(created, r.name)
				}
			}
			<-killed
			guarded := map[string]bool{}
			for _, rec := range e.decisionsFor(p.name) {
				guarded[fmt.Sprint(rec["container"])] = true
			}
			var unguarded []string
			for _, name := range created {
				if !guarded[name] {
					unguarded = append(unguarded, name)
				}
			}
			t.Logf("containerd %s: %d creations, %d created, %d unguarded %v", v, total, len(created), len(unguarded), unguarded)
			if len(created) < 5 {
				t.Errorf("only %d creations succeeded before the kill; the run did not exercise the guard", len(created))
			}
			if len(unguarded) > 1 {
				t.Errorf("%d containers were created without the guard: %v", len(unguarded), unguarded)
			}
		})
	}
}
