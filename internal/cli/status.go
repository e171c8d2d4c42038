package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/nri-guard/nri-guard/internal/judged"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/reload"
)

// runStatus reports the policy state of the running plugin from its
// status file, and whether the policy files on disk load and are the
// ones in force. Exit 0 when all is well, 1 when something needs an
// admin (a change that does not load, the plugin not running).
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nri-guard status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("status-file", reload.DefaultStatusPath, "the status file the plugin writes")
	judgedDir := fs.String("judged-dir", judged.DefaultDir, "where the runtime wrapper marks the containers it judged")
	roots := fs.String("runc-roots", strings.Join(judged.DefaultRoots, ","), "runc root directories (globs, comma-separated) to look for running containers in")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	s, err := reload.ReadStatus(*path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "nri-guard is not running here: no status at %s\n", *path)
		return exitFail
	}
	if err != nil {
		fmt.Fprintln(stderr, "nri-guard:", err)
		return exitFail
	}
	healthy := reportProcess(stdout, s)
	healthy = reportInForce(stdout, s) && healthy
	healthy = reportOnDisk(stdout, s) && healthy
	healthy = reportUnjudged(stdout, *judgedDir, strings.Split(*roots, ",")) && healthy
	if !healthy {
		return exitFail
	}
	return exitOK
}

func reportProcess(w io.Writer, s reload.Status) bool {
	runtime := s.Runtime
	if runtime == "" {
		runtime = "no runtime yet"
	}
	// Signal 0 checks that the process exists without touching it.
	if err := syscall.Kill(s.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		fmt.Fprintf(w, "nri-guard (pid %d) is NOT running; it last ran with %s\n", s.PID, runtime)
		return false
	}
	fmt.Fprintf(w, "nri-guard (pid %d) is running, connected to %s\n", s.PID, runtime)
	return true
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
func reportUnjudged(w io.Writer, dir string, roots []string) bool {
	found, err := judged.FindUnjudged(dir, roots)
	if err != nil {
		fmt.Fprintf(w, "cannot tell which running containers were judged: %v\n", err)
		return false
	}
	if len(found) == 0 {
		fmt.Fprintln(w, "every running container was judged by the runtime wrapper")
		return true
	}
	fmt.Fprintf(w, "%d running container(s) were NOT judged by any guard (created outside CRI, e.g. ctr or nerdctl, or with a runtime that is not nri-guard-runc):\n", len(found))
	for _, u := range found {
		fmt.Fprintf(w, "  %s (runc root %s, bundle %s)\n", u.ID, u.Root, u.Bundle)
	}
	return false
}
