package tally

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// TestConcurrentAddsAreAllCounted: many writers at once, none lost.
func TestConcurrentAddsAreAllCounted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tallies")
	var wg sync.WaitGroup
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := Add(dir, "create-refuse"); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := Read(dir)
	if err != nil || got["create-refuse"] != 1000 {
		t.Fatalf("got %v %v, want 1000", got, err)
	}
}

func TestBadNamesAndMissingDir(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"", "..", "a/b", ".hidden"} {
		if Add(dir, bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got, err := Read(filepath.Join(dir, "none")); err != nil || len(got) != 0 {
		t.Fatalf("missing dir: %v %v", got, err)
	}
}

// TestAddsFromProcesses: separate processes (as wrappers are) adding at
// once are all counted. The test binary runs itself as the writers.
func TestAddsFromProcesses(t *testing.T) {
	if dir := os.Getenv("TALLY_WRITER_DIR"); dir != "" {
		for i := 0; i < 100; i++ {
			if err := Add(dir, "x"); err != nil {
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for i := 0; i < 8; i++ {
		c := exec.Command(os.Args[0], "-test.run=^TestAddsFromProcesses$")
		c.Env = append(os.Environ(), "TALLY_WRITER_DIR="+dir)
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
	if got, _ := Read(dir); got["x"] != 800 {
		t.Fatalf("got %s, want 800", strconv.FormatInt(got["x"], 10))
	}
}

func TestDroppedLinesAreSaidOnce(t *testing.T) {
	dir := t.TempDir()
	pending, reported := DroppedLines(dir)
	if pending() != 0 {
		t.Fatal("lines pending in an empty tally")
	}
	if err := AddN(dir, "log-dropped", 2); err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != 2 {
		t.Fatalf("pending %d, want 2", n)
	}
	reported(2)
	if n := pending(); n != 0 || Count(dir, "log-dropped") != 2 {
		t.Fatalf("after the report: pending %d, dropped %d", n, Count(dir, "log-dropped"))
	}
}
