package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/nriplugin"
	"github.com/nri-guard/nri-guard/internal/tally"
)

// wrapperStatus is what the runtime wrapper did, which the plugin never
// sees: the wrapper is a process per runc call, so its counts are its
// tallies and its refusals the decision log's runtime-phase records.
type wrapperStatus struct {
	// Counts are the wrapper's tallies since the node booted (they live
	// on /run): refused-<verb>, strict treatments, dropped log lines.
	Counts   map[string]int64    `json:"counts,omitempty"`
	Refusals []nriplugin.Refusal `json:"refusals,omitempty"`
	// Unreadable says what could not be read, so an empty answer is
	// never taken for "nothing happened".
	Unreadable []string `json:"unreadable,omitempty"`
}

// logTail is how much of the end of each decision log file is read for
// the last refusals: a record is well under 8 KiB.
const logTail = 1 << 20

// readWrapperStatus reads the tallies and the last runtime-phase
// refusals of the decision log (the live file, then the newest rotated
// one if the live file holds fewer).
func readWrapperStatus(talliesDir, logPath string) wrapperStatus {
	var ws wrapperStatus
	counts, err := tally.Read(talliesDir)
	if err != nil {
		ws.Unreadable = append(ws.Unreadable, err.Error())
	}
	if len(counts) > 0 {
		ws.Counts = counts
	}
	for _, p := range []string{logPath, logPath + ".1"} {
		found, err := runtimeRefusals(p)
		if err != nil && !os.IsNotExist(err) {
			ws.Unreadable = append(ws.Unreadable, err.Error())
		}
		ws.Refusals = append(found, ws.Refusals...)
		if len(ws.Refusals) >= nriplugin.RecentRefusals {
			break
		}
	}
	if n := len(ws.Refusals); n > nriplugin.RecentRefusals {
		ws.Refusals = ws.Refusals[n-nriplugin.RecentRefusals:]
	}
	return ws
}

// runtimeRefusals are the refusals the wrapper logged in the last logTail
// bytes of the file, oldest first.
func runtimeRefusals(path string) ([]nriplugin.Refusal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	partial := false
	if off := fi.Size() - logTail; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
		partial = true // the first line read is cut: skip it
	}
	var out []nriplugin.Refusal
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), logTail)
	for sc.Scan() {
		if partial {
			partial = false
			continue
		}
		var r decisionlog.Record
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Phase != "runtime" || r.Action != "refuse" {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, r.Time)
		out = append(out, nriplugin.Refusal{Time: at, Phase: r.Phase, Workload: r.Namespace + "/" + r.Pod + "/" + r.Container, Text: r.Message})
	}
	return out, sc.Err()
}

// reportWrapper prints what the wrapper did; it never makes the node
// unhealthy (a refusal is the guard working), but a tally or log it
// cannot read is said.
func reportWrapper(w io.Writer, ws wrapperStatus) {
	if len(ws.Counts) > 0 {
		names := make([]string, 0, len(ws.Counts))
		for name := range ws.Counts {
			names = append(names, name)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, name := range names {
			parts[i] = fmt.Sprintf("%d %s", ws.Counts[name], name)
		}
		fmt.Fprintf(w, "runtime wrapper since boot: %s\n", strings.Join(parts, ", "))
	}
	if len(ws.Refusals) > 0 {
		fmt.Fprintf(w, "last %d refusals by the runtime wrapper:\n", len(ws.Refusals))
		for i := len(ws.Refusals) - 1; i >= 0; i-- {
			r := ws.Refusals[i]
			fmt.Fprintf(w, "  %s: %s\n", r.Time.Format(time.RFC3339), r.Text)
		}
	}
	for _, u := range ws.Unreadable {
		fmt.Fprintf(w, "cannot read what the runtime wrapper did: %s\n", u)
	}
}
