package decisionlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/view"
)

// TestRotationUnderConcurrentWritersLosesNothing: several processes (as
// the plugin and the wrappers are) write while the file rotates every few
// kilobytes; every line is found whole in exactly one file.
func TestRotationUnderConcurrentWritersLosesNothing(t *testing.T) {
	const writers, lines = 6, 300
	if dir := os.Getenv("DECISIONLOG_WRITER_DIR"); dir != "" {
		f := &File{Path: filepath.Join(dir, "decisions.jsonl"), MaxBytes: 4096, Keep: 100000}
		l := New(f)
		who := os.Getenv("DECISIONLOG_WRITER")
		for i := 0; i < lines; i++ {
			c := &view.Container{ID: who + "-" + strconv.Itoa(i), Name: strings.Repeat("x", i%50)}
			if err := l.Write("create", &engine.Decision{Container: c, Action: engine.Allow}, nil, ""); err != nil {
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for w := 0; w < writers; w++ {
		c := exec.Command(os.Args[0], "-test.run=^TestRotationUnderConcurrentWritersLosesNothing$")
		c.Env = append(os.Environ(), "DECISIONLOG_WRITER_DIR="+dir, "DECISIONLOG_WRITER=w"+strconv.Itoa(w))
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "decisions.jsonl*"))
	rotated := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".lock") {
			continue
		}
		if path != filepath.Join(dir, "decisions.jsonl") {
			rotated++
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var rec Record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("%s: a split or broken line: %q", path, sc.Text())
			}
			if rec.SchemaVersion != SchemaVersion {
				t.Fatalf("line without schemaVersion: %q", sc.Text())
			}
			seen[rec.ContainerID]++
		}
		f.Close()
	}
	if len(seen) != writers*lines {
		t.Fatalf("%d distinct lines, want %d", len(seen), writers*lines)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s written %d times", id, n)
		}
	}
	if rotated < 10 {
		t.Fatalf("only %d rotations: the test did not rotate under the writers", rotated)
	}
	t.Logf("%d lines from %d processes across %d rotated files", len(seen), writers, rotated)
}

// TestKeepBoundsTheFiles: rotation keeps Keep old files.
func TestKeepBoundsTheFiles(t *testing.T) {
	dir := t.TempDir()
	f := &File{Path: filepath.Join(dir, "d.jsonl"), MaxBytes: 100, Keep: 3}
	for i := 0; i < 200; i++ {
		if err := f.WriteLine([]byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "d.jsonl.*"))
	var old []string
	for _, p := range files {
		if !strings.HasSuffix(p, ".lock") {
			old = append(old, filepath.Base(p))
		}
	}
	if strings.Join(old, ",") != "d.jsonl.1,d.jsonl.2,d.jsonl.3" {
		t.Fatalf("rotated files %v", old)
	}
}

// TestFullDiskDropsAndSaysSo: lines that cannot be written are counted,
// and the first line written again is preceded by how many were lost.
func TestFullDiskDropsAndSaysSo(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "d.jsonl")
	os.Symlink("/dev/full", path)
	f := &File{Path: path, MaxBytes: 1 << 20, Keep: 2}
	for i := 0; i < 3; i++ {
		if err := f.WriteLine([]byte(`{"n":1}`)); err == nil {
			t.Fatal("a write to a full disk did not fail")
		}
	}
	if f.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", f.Dropped())
	}
	os.Remove(path)
	if err := f.WriteLine([]byte(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"dropped":3`) || lines[1] != `{"n":2}` || f.Dropped() != 0 {
		t.Fatalf("after the disk came back:\n%s", data)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec["schemaVersion"] != float64(SchemaVersion) {
		t.Fatalf("the dropped line is not a record: %q %v", lines[0], err)
	}
}

// A rotation that fails is said as such: the line was written, nothing
// is counted as dropped (a wrapper would otherwise tally a lost line).
func TestRotationFailureIsNotADroppedLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "decisions.jsonl")
	// Path.1 is a directory with a file in it: the rename onto it fails.
	if err := os.MkdirAll(filepath.Join(path+".1", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &File{Path: path, MaxBytes: 4, Keep: 1}
	err := f.WriteLine([]byte(`{"n":1}`))
	var rotate *RotateError
	if !errors.As(err, &rotate) {
		t.Fatalf("want a RotateError, got %v", err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "{\"n\":1}\n" || f.Dropped() != 0 {
		t.Fatalf("log %q, dropped %d: want the line written and none dropped", data, f.Dropped())
	}
}

// Lines other processes dropped (the wrapper's, told by Pending) are said
// once, by the next line written, and Reported learns how many.
func TestOthersDroppedLinesAreReportedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	dropped, reported := int64(3), int64(0)
	f := &File{Path: path, Pending: func() int64 { return dropped - reported }, Reported: func(n int64) { reported += n }}
	for _, line := range []string{`{"n":1}`, `{"n":2}`} {
		if err := f.WriteLine([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"action":"dropped","dropped":3`) || lines[1] != `{"n":1}` || lines[2] != `{"n":2}` || reported != 3 {
		t.Fatalf("reported %d; log:\n%s", reported, data)
	}
}
