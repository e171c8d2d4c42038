package judged

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nri-guard/nri-guard/internal/runcstate"
)

// writeState lays out a runc state.json for a container whose init
// process is pid with the given start time.
func writeState(t *testing.T, root, id string, pid int, start uint64) {
	t.Helper()
	st := map[string]any{"id": id, "init_process_pid": pid, "init_process_start": start,
		"config": map[string]any{"labels": []string{"bundle=/bundles/" + id}}}
	data, _ := json.Marshal(st)
	if err := os.MkdirAll(filepath.Join(root, id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, id, "state.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFindUnjudged(t *testing.T) {
	base := t.TempDir()
	marks := filepath.Join(base, "judged")
	cri := filepath.Join(base, "runc", "k8s.io")
	ctr := filepath.Join(base, "runc", "default")
	elsewhere := filepath.Join(base, "other-root") // named only by a mark
	self := os.Getpid()
	start, err := runcstate.ProcessStart(self)
	if err != nil {
		t.Fatal(err)
	}
	writeState(t, cri, "judged-pod", self, start)
	writeState(t, cri, "exited", self, start+1) // pid reused by another process
	writeState(t, ctr, "ctr-run", self, start)
	writeState(t, elsewhere, "crun-judged", self, start)
	writeState(t, elsewhere, "crun-unjudged", self, start)
	for _, id := range []string{"judged-pod", "crun-judged"} {
		root := cri
		if id == "crun-judged" {
			root = elsewhere
		}
		if err := Write(marks, id, Mark{Root: root, Action: "allow"}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := FindUnjudged(marks, []string{filepath.Join(base, "runc", "*")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ctr-run": ctr, "crun-unjudged": elsewhere}
	if len(got) != len(want) {
		t.Fatalf("unjudged = %+v, want %v", got, want)
	}
	for _, u := range got {
		if want[u.ID] != u.Root || u.Bundle != "/bundles/"+u.ID {
			t.Errorf("unexpected %+v", u)
		}
	}

	if err := Remove(marks, "judged-pod"); err != nil {
		t.Fatal(err)
	}
	got, _ = FindUnjudged(marks, []string{filepath.Join(base, "runc", "*")})
	if len(got) != 3 {
		t.Errorf("after its mark was removed the pod must count as unjudged: %+v", got)
	}
}

func TestMarkRefusesPathsOutsideTheDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"../x", "a/b", "", "..", "."} {
		if err := Write(dir, id, Mark{}); err == nil {
			t.Errorf("Write(%q) must fail", id)
		}
	}
}

func TestNoMarksNoRoots(t *testing.T) {
	got, err := FindUnjudged(filepath.Join(t.TempDir(), "none"), []string{"/nonexistent/runc/*"})
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v %v", got, err)
	}
}
