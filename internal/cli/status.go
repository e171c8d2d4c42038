package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/nri-guard/nri-guard/internal/judged"
	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/nriplugin"
	"github.com/nri-guard/nri-guard/internal/reload"
	"github.com/nri-guard/nri-guard/internal/runcstate"
)

// Exit codes of `nri-guard status`.
const (
	statusHealthy  = 0
	statusDegraded = 1 // running, but an admin should look (a policy that does not load, not connected, unjudged containers)
	statusDown     = 2 // not running
)

// runStatus reports the running plugin: live over its status socket, or,
// when it cannot be reached, from its status file (and says which).
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nri-guard status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("status-file", reload.DefaultStatusPath, "the status file the plugin writes")
	socket := fs.String("socket", layout.Node().StatusSocket, "the running plugin's status socket")
	judgedDir := fs.String("judged-dir", judged.DefaultDir, "where the runtime wrapper marks the containers it judged")
	roots := fs.String("runc-roots", strings.Join(judged.DefaultRoots, ","), "runc root directories (globs, comma-separated) to look for running containers in")
	talliesDir := fs.String("tallies", layout.Node().Tallies, "where the runtime wrapper counts its refusals")
	decisionLog := fs.String("decision-log", layout.Node().DecisionLog, "the decision log (the runtime wrapper's refusals are read from it)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var out io.Writer = stdout
	if *asJSON {
		out = io.Discard
	}
	report := statusReport{Source: "live (" + *socket + ")"}
	live, err := askLive(*socket)
	if err == nil {
		report.Live, report.Policy = &live.Plugin, live.Policy
		report.Version = live.Version
	} else {
		report.Source = "status file (" + *path + "); the running plugin could not be asked: " + err.Error()
		report.Policy, err = reload.ReadStatus(*path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintln(stderr, "nri-guard:", err)
			}
			report.Health = "down"
			report.Problems = append(report.Problems, "nri-guard is not running here: no status at "+*path)
			fmt.Fprintf(out, "nri-guard is not running here: no status at %s\n", *path)
			return report.finish(stdout, *asJSON, statusDown)
		}
	}
	code := statusHealthy
	var process strings.Builder
	if !reportProcess(&process, report.Policy, report.Live != nil) {
		// Down is one line: what is wrong, then where that was read.
		fmt.Fprintf(out, "%s (from the %s)\n", strings.TrimSuffix(process.String(), "\n"), report.Source)
		report.Problems = append(report.Problems, "the plugin process is not running")
		report.Health = "down"
		return report.finish(stdout, *asJSON, statusDown)
	}
	fmt.Fprintf(out, "from the %s\n%s", report.Source, process.String())
	for _, check := range []func() (bool, string){
		func() (bool, string) { return reportLive(out, report.Live), "not connected to the runtime" },
		func() (bool, string) {
			return reportInForce(out, report.Policy), "the policy in force is not the one on disk, or a change did not load"
		},
		func() (bool, string) {
			return reportOnDisk(out, report.Policy), "the policy files on disk do not load or are not in force yet"
		},
		func() (bool, string) {
			ok, unjudged := reportUnjudged(out, *judgedDir, strings.Split(*roots, ","))
			report.Unjudged = unjudged
			return ok, "running containers no guard judged"
		},
		func() (bool, string) {
			ws := readWrapperStatus(*talliesDir, *decisionLog)
			report.Wrapper = &ws
			reportWrapper(out, ws)
			return true, ""
		},
	} {
		if ok, problem := check(); !ok {
			report.Problems = append(report.Problems, problem)
			code = statusDegraded
		}
	}
	report.Health = map[int]string{statusHealthy: "healthy", statusDegraded: "degraded"}[code]
	return report.finish(stdout, *asJSON, code)
}

// statusReport is `nri-guard status --json`.
type statusReport struct {
	Health   string            `json:"health"` // healthy, degraded, down
	Problems []string          `json:"problems,omitempty"`
	Source   string            `json:"source"`
	Version  string            `json:"version,omitempty"`
	Policy   reload.Status     `json:"policy"`
	Live     *nriplugin.Live   `json:"live,omitempty"`
	Unjudged []judged.Unjudged `json:"unjudged,omitempty"`
	Wrapper  *wrapperStatus    `json:"wrapper,omitempty"`
}

func (r *statusReport) finish(stdout io.Writer, asJSON bool, code int) int {
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
	}
	return code
}

// reportProcess says whether the plugin runs. A pid counts only with the
// start time the status recorded: pids are reused. An answer on the
// socket is proof enough.
func reportProcess(w io.Writer, s reload.Status, answered bool) bool {
	runtime := s.Runtime
	if runtime == "" {
		runtime = "no runtime yet"
	}
	running := answered
	if !answered {
		// Signal 0 checks that the process exists without touching it.
		err := syscall.Kill(s.PID, 0)
		running = err == nil || errors.Is(err, syscall.EPERM)
		if running && s.PIDStart == 0 {
			// A pid alone may be any process's by now: trusted only with
			// the start time the plugin recorded beside it.
			fmt.Fprintf(w, "nri-guard (pid %d) cannot be confirmed running: the status file records no start time for the pid; it last ran with %s\n", s.PID, runtime)
			return false
		}
		if start, serr := runcstate.ProcessStart(s.PID); running && (serr != nil || start != s.PIDStart) {
			running = false // another process has the pid now
		}
	}
	if !running {
		fmt.Fprintf(w, "nri-guard (pid %d) is NOT running; it last ran with %s\n", s.PID, runtime)
		return false
	}
	fmt.Fprintf(w, "nri-guard (pid %d) is running, connected to %s\n", s.PID, runtime)
	return true
}

// reportLive prints what only the running plugin knows; true when it is
// connected (or could not be asked: the file does not say).
func reportLive(w io.Writer, l *nriplugin.Live) bool {
	if l == nil {
		return true
	}
	if !l.Connected {
		fmt.Fprintln(w, "NOT connected to the runtime: containers wait, or are refused by required_plugins, until it reconnects")
	}
	fmt.Fprintf(w, "running since %s; active controls: %s\n", l.Started.Format(time.RFC3339), strings.Join(l.Active, ", "))
	if len(l.Wrapper) > 0 {
		fmt.Fprintf(w, "left to the runtime wrapper: %s\n", strings.Join(l.Wrapper, ", "))
	}
	for id, why := range l.Unavailable {
		fmt.Fprintf(w, "UNAVAILABLE on this runtime: %s (%s)\n", id, why)
	}
	phases := make([]string, 0, len(l.Counts))
	for phase := range l.Counts {
		phases = append(phases, phase)
	}
	sort.Strings(phases)
	for _, phase := range phases {
		var parts []string
		for _, a := range []string{"allow", "rewrite", "audit", "refuse"} {
			if n := l.Counts[phase][a]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, a))
			}
		}
		fmt.Fprintf(w, "decisions since start (%s): %s\n", phase, strings.Join(parts, ", "))
	}
	if len(l.Refusals) > 0 {
		fmt.Fprintf(w, "last %d refusals:\n", len(l.Refusals))
		for i := len(l.Refusals) - 1; i >= 0; i-- {
			r := l.Refusals[i]
			fmt.Fprintf(w, "  %s %s: %s\n", r.Time.Format(time.RFC3339), r.Phase, r.Text)
		}
	}
	return l.Connected
}

func reportInForce(w io.Writer, s reload.Status) bool {
	if s.Fingerprint == "" {
		fmt.Fprintln(w, "no policy in force: the policy did not load when nri-guard started")
	} else {
		fmt.Fprintf(w, "policy in force since %s (fingerprint %.12s): %s\n", s.LoadedAt.Format(time.RFC3339), s.Fingerprint, strings.Join(s.InForce, ", "))
	}
	if s.LastError == "" {
		return s.Fingerprint != ""
	}
	fmt.Fprintf(w, "the last policy change did NOT load (%s); the policy in force stays:\n  %s\n",
		s.LastErrorAt.Format(time.RFC3339), strings.ReplaceAll(s.LastError, "\n", "\n  "))
	return false
}

// reportOnDisk loads the files as they are now: a change the plugin has
// not looked at yet shows here before it shows in the status.
func reportOnDisk(w io.Writer, s reload.Status) bool {
	pol, _, err := loader.Load(s.PolicyFile, loader.ExistingDir(s.PolicyDir))
	switch {
	case err != nil:
		fmt.Fprintf(w, "the policy files on disk do not load:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return false
	case pol.Digest != s.Fingerprint:
		fmt.Fprintln(w, "the policy files on disk load but differ from the policy in force (not reloaded yet)")
		return false
	}
	fmt.Fprintln(w, "the policy files on disk are the policy in force")
	return true
}

// reportUnjudged names the running containers that never passed the
// runtime wrapper: created outside CRI (ctr, nerdctl, k3s ctr: their shim
// runs the runc on PATH) or under a runtime that is not the wrapper. The
// NRI plugin never sees the first kind either, so nothing judged them.
func reportUnjudged(w io.Writer, dir string, roots []string) (bool, []judged.Unjudged) {
	found, err := judged.FindUnjudged(dir, roots)
	if err != nil {
		fmt.Fprintf(w, "cannot tell which running containers were judged: %v\n", err)
		return false, nil
	}
	if len(found) == 0 {
		fmt.Fprintln(w, "every running container was judged by the runtime wrapper")
		return true, nil
	}
	fmt.Fprintf(w, "%d running container(s) were NOT judged by any guard (created outside CRI, e.g. ctr or nerdctl, or with a runtime that is not nri-guard-runc):\n", len(found))
	for _, u := range found {
		fmt.Fprintf(w, "  %s (runc root %s, bundle %s)\n", u.ID, u.Root, u.Bundle)
	}
	return false, found
}
