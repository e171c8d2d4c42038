package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/reload"
	"github.com/nri-guard/nri-guard/internal/runcstate"
	"github.com/nri-guard/nri-guard/internal/tally"
)

// A pid in the status file is trusted only with the start time recorded
// beside it: a pid without one, or with another, may be any process's.
func TestStatusTrustsAPidOnlyWithItsStartTime(t *testing.T) {
	self := os.Getpid()
	start, err := runcstate.ProcessStart(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		start   uint64
		running bool
		says    string
	}{
		{"its own start time", start, true, "is running"},
		{"no start time", 0, false, "cannot be confirmed running: the status file records no start time"},
		{"another start time (the pid was reused)", start + 1, false, "is NOT running"},
	} {
		var out strings.Builder
		got := reportProcess(&out, reload.Status{PID: self, PIDStart: c.start, Runtime: "containerd"}, false)
		if got != c.running || !strings.Contains(out.String(), c.says) {
			t.Errorf("%s: running=%v, said %q; want %v and %q", c.name, got, out.String(), c.running, c.says)
		}
	}
}

// The runtime wrapper's refusals never reach the plugin: status reads
// them from the tallies (every one, also those the decision log could not
// hold) and the decision log's runtime-phase records, across a rotation,
// and says when it cannot read them.
func TestStatusShowsTheWrappersRefusals(t *testing.T) {
	dir := t.TempDir()
	talliesDir, logPath := dir+"/tallies", dir+"/decisions.jsonl"
	for i := 0; i < 3; i++ {
		if err := tally.Add(talliesDir, "refused-create"); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	line := func(phase, action, pod, msg string) string {
		return `{"schemaVersion":1,"time":"2026-12-03T10:00:00Z","phase":"` + phase + `","namespace":"default","pod":"` + pod +
			`","container":"c","action":"` + action + `","message":"` + msg + `"}` + "\n"
	}
	must(os.WriteFile(logPath+".1", []byte(line("runtime", "refuse", "old", "nri-guard: refused default/old/c: rotated away")), 0o644))
	must(os.WriteFile(logPath, []byte(line("create", "refuse", "plugin", "the plugin's own")+
		line("runtime", "rewrite", "fine", "")+line("runtime", "refuse", "new", "nri-guard: refused default/new/c: capabilities")+"{cut"), 0o644))

	ws := readWrapperStatus(talliesDir, logPath)
	var out strings.Builder
	reportWrapper(&out, ws)
	text := out.String()
	for _, want := range []string{"runtime wrapper since boot: 3 refused-create", "last 2 refusals by the runtime wrapper:",
		"refused default/new/c: capabilities", "refused default/old/c: rotated away"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "the plugin's own") || strings.Index(text, "new/c") > strings.Index(text, "old/c") {
		t.Errorf("want only the wrapper's refusals, newest first:\n%s", text)
	}
	// A log that cannot be read (here a directory) is said, not taken
	// for a quiet node.
	out.Reset()
	reportWrapper(&out, readWrapperStatus(talliesDir, dir))
	if !strings.Contains(out.String(), "cannot read what the runtime wrapper did") {
		t.Errorf("an unreadable log is not said:\n%s", out.String())
	}
}
