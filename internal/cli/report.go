package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nri-guard/nri-guard/internal/judged"
	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/nriplugin"
)

// report is `nri-guard report --json`.
type report struct {
	// Pods groups the containers by namespace and pod, as the table does.
	Pods       []podReport        `json:"pods"`
	Containers []nriplugin.Judged `json:"containers"`
	// Unjudged are running containers no guard judged (created outside
	// CRI, or while nri-guard was absent from the node).
	Unjudged []judged.Unjudged `json:"unjudged"`
	Summary  map[string]int    `json:"summary"` // enforce action → containers
}

// runReport judges the running containers, as the plugin sees them,
// against the policy in force now: what enforce would do if each were
// created today. This is what an admin decides audit → enforce from.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nri-guard report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", layout.Node().StatusSocket, "the running plugin's status socket")
	judgedDir := fs.String("judged-dir", layout.Node().Judged, "where the runtime wrapper marks the containers it judged")
	roots := fs.String("runc-roots", strings.Join(judged.DefaultRoots, ","), "runc root directories (globs, comma-separated) to look for running containers in")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	propose := fs.String("propose", "", "write a policy drop-in to this file (- for standard output) with, for every workload enforce would refuse, the narrowest exception that lets it run")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *propose != "" {
		return writeProposals(*socket, *propose, stdout, stderr)
	}
	var r report
	if err := ask(*socket, "/report", &r.Containers); err != nil {
		fmt.Fprintf(stderr, "nri-guard report: cannot ask the running plugin (%v); is nri-guard running here?\n", err)
		return statusDown
	}
	unjudged, err := judged.FindUnjudged(*judgedDir, strings.Split(*roots, ","))
	if err != nil {
		fmt.Fprintf(stderr, "nri-guard report: cannot tell which running containers were judged: %v\n", err)
	}
	r.Unjudged = unjudged
	r.Summary = map[string]int{}
	for _, c := range r.Containers {
		r.Summary[c.Enforce]++
	}
	r.Pods = byPod(r.Containers)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
		return exitOK
	}
	printReport(stdout, &r)
	return exitOK
}

// podReport is one pod's containers and the most that enforce would do
// to any of them (refuse over rewrite over allow).
type podReport struct {
	Namespace  string             `json:"namespace"`
	Pod        string             `json:"pod"`
	Enforce    string             `json:"enforce"`
	Containers []nriplugin.Judged `json:"containers"`
}

var enforceRank = map[string]int{"allow": 0, "rewrite": 1, "refuse": 2}

// byPod groups containers, sorted by namespace and pod, by their pod.
func byPod(containers []nriplugin.Judged) []podReport {
	var pods []podReport
	for _, c := range containers {
		if n := len(pods); n == 0 || pods[n-1].Namespace != c.Namespace || pods[n-1].Pod != c.Pod {
			pods = append(pods, podReport{Namespace: c.Namespace, Pod: c.Pod, Enforce: c.Enforce})
		}
		p := &pods[len(pods)-1]
		p.Containers = append(p.Containers, c)
		if enforceRank[c.Enforce] > enforceRank[p.Enforce] {
			p.Enforce = c.Enforce
		}
	}
	return pods
}

func printReport(w io.Writer, r *report) {
	fmt.Fprintf(w, "%d running containers: %d allowed, %d rewritten, %d refused under enforce if created now\n",
		len(r.Containers), r.Summary["allow"], r.Summary["rewrite"], r.Summary["refuse"])
	for _, p := range r.Pods {
		fmt.Fprintf(w, "\n%s/%s\n", p.Namespace, p.Pod)
		for _, c := range p.Containers {
			exc := ""
			if c.Exception != "" {
				exc = " (exception " + c.Exception + ")"
			}
			fmt.Fprintf(w, "  %-8s %s  %s%s\n", strings.ToUpper(c.Enforce), c.Container, c.Image, exc)
			for _, f := range c.Findings {
				fmt.Fprintf(w, "           %s\n", f)
			}
		}
	}
	if len(r.Unjudged) > 0 {
		fmt.Fprintf(w, "\n%d running container(s) no guard judged (created outside CRI, or while nri-guard was absent):\n", len(r.Unjudged))
		for _, u := range r.Unjudged {
			fmt.Fprintf(w, "  %s (runc root %s, bundle %s)\n", u.ID, u.Root, u.Bundle)
		}
	}
}

// writeProposals asks the plugin for the proposed exceptions and writes
// them as a drop-in; it never overwrites a file (a reviewed proposal may
// be there) and says what it left to the admin.
func writeProposals(socket, file string, stdout, stderr io.Writer) int {
	var props nriplugin.Proposals
	if err := ask(socket, "/propose", &props); err != nil {
		fmt.Fprintf(stderr, "nri-guard report --propose: cannot get proposals from the running plugin (%v); is nri-guard running here?\n", err)
		return statusDown
	}
	out := stdout
	if file != "-" {
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "nri-guard report --propose: %v\n", err)
			return exitFail
		}
		defer f.Close()
		out = f
	}
	if props.Proposed > 0 {
		if _, err := io.WriteString(out, props.DropIn); err != nil {
			fmt.Fprintf(stderr, "nri-guard report --propose: writing %s: %v\n", file, err)
			return exitFail
		}
	}
	fmt.Fprintf(stderr, "%d exception(s) proposed", props.Proposed)
	if file != "-" && props.Proposed > 0 {
		fmt.Fprintf(stderr, " in %s: review them, then move the file into the policy directory", file)
	}
	fmt.Fprintln(stderr)
	for _, n := range props.NotProposed {
		fmt.Fprintf(stderr, "not proposed for %s: %s\n", n.Container, n.Why)
	}
	return exitOK
}
