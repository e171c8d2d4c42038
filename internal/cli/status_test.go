package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/reload"
	"github.com/nri-guard/nri-guard/internal/runcstate"
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
