package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
)

// runPolicyShow prints the effective policy with provenance, and with
// --for, which exception applies to one workload.
func runPolicyShow(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nri-guard policy show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf policyFlags
	var wf workloadFlags
	pf.register(fs)
	wf.register(fs)
	forWorkload := fs.String("for", "", "explain the settings for NAMESPACE/POD[/CONTAINER]")
	var cmdline argFlags
	fs.Var(&cmdline, "arg", "with --for: one argument of the process's command line, entrypoint first (repeatable)")
	table := fs.Bool("controls", false, "print the table of controls (what each reads and does, which are the wrapper's, which are off under this policy)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	pol, _, err := pf.load()
	if err != nil {
		fmt.Fprintf(stderr, "nri-guard: bad policy:\n%v\n", err)
		return exitFail
	}
	if *table {
		fmt.Fprint(stdout, controls.Table(pol.Controls.ModesByKey(), "off under this policy"))
		return exitOK
	}
	pol.Show(stdout)
	if *forWorkload == "" {
		return exitOK
	}
	parts := strings.SplitN(*forWorkload, "/", 3)
	if len(parts) < 2 {
		fmt.Fprintln(stderr, "nri-guard: --for wants NAMESPACE/POD[/CONTAINER]")
		return exitUsage
	}
	wl := policy.Workload{Namespace: parts[0], Pod: parts[1], Image: wf.image, Labels: wf.labels, Args: cmdline}
	if len(parts) == 3 {
		wl.Container = parts[2]
	}
	fmt.Fprintln(stdout)
	pol.Explain(stdout, wl)
	return exitOK
}

// argFlags collects a command line, one flag per argument.
type argFlags []string

func (a *argFlags) String() string     { return strings.Join(*a, " ") }
func (a *argFlags) Set(s string) error { *a = append(*a, s); return nil }
