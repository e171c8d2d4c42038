package reload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
)

const base = "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"

func TestReloadKeepsTheLastGoodPolicy(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	drop := filepath.Join(dir, "policy.d")
	os.WriteFile(file, []byte(base), 0o644)
	var applied []*policy.Policy
	var failures []error
	w := &Watcher{File: file, Dir: drop,
		Apply:  func(p *policy.Policy, _ controls.Profiles) { applied = append(applied, p) },
		Failed: func(err error) { failures = append(failures, err) }}
	w.last = w.fingerprint()

	w.Poll()
	if len(applied)+len(failures) != 0 {
		t.Fatal("nothing changed, nothing may reload")
	}
	os.MkdirAll(drop, 0o755)
	os.WriteFile(filepath.Join(drop, "10-audit.yaml"), []byte(base+"defaultMode: audit\n"), 0o644)
	w.Poll()
	if len(applied) != 1 || applied[0].DefaultMode.Value != policy.Audit {
		t.Fatalf("drop-in not applied: %d applied, %v", len(applied), failures)
	}
	os.WriteFile(filepath.Join(drop, "20-broken.yaml"), []byte(base+"defaultMode: loud\n"), 0o644)
	w.Poll()
	if len(applied) != 1 || len(failures) != 1 || !strings.Contains(failures[0].Error(), "20-broken.yaml:3:14: defaultMode: unknown value") {
		t.Fatalf("a broken drop-in must be reported with file and line and applied never: %v", failures)
	}
	os.Remove(filepath.Join(drop, "20-broken.yaml"))
	w.Poll()
	if len(applied) != 2 {
		t.Fatal("fixing the drop-in must reload")
	}
}

func TestSnapshotHoldsTheFilesThatLoaded(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	drop := filepath.Join(dir, "policy.d")
	os.MkdirAll(drop, 0o755)
	os.WriteFile(file, []byte(base), 0o644)
	os.WriteFile(filepath.Join(drop, "10-audit.yaml"), []byte(base+"defaultMode: audit\n"), 0o644)
	pol, err := policy.Load(file, drop)
	if err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "last-good")
	for i := 0; i < 2; i++ { // a second snapshot replaces the first
		if err := Snapshot(pol, snap); err != nil {
			t.Fatal(err)
		}
	}
	again, err := policy.Load(filepath.Join(snap, "policy.yaml"), filepath.Join(snap, "policy.d"))
	if err != nil || again.DefaultMode.Value != policy.Audit {
		t.Fatalf("snapshot does not load to the same policy: %v", err)
	}
}
