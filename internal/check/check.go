// Package check is the offline caller of the engine: it reads an OCI
// runtime spec and prints the decision the node would make, so a spec can
// be judged in CI or on a workstation with the node's own policy.
package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/jsonpos"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Input is a spec read from a file, with what kind of file it was.
type Input struct {
	Name string
	// Kind says what was detected, for the report.
	Kind string
	ID   string
	Spec *specs.Spec
}

// Parse detects and decodes a bundle's config.json or the output of
// `crictl inspect -o json` (whose info.runtimeSpec is the spec).
func Parse(name string, data []byte) (Input, error) {
	var probe struct {
		OCIVersion *string `json:"ociVersion"`
		Info       *struct {
			RuntimeSpec json.RawMessage `json:"runtimeSpec"`
		} `json:"info"`
		Status *struct {
			ID string `json:"id"`
		} `json:"status"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return Input{}, jsonpos.Error(name, data, err)
	}
	in := Input{Name: name}
	switch {
	case probe.OCIVersion != nil:
		in.Kind = "OCI runtime spec (a bundle's config.json)"
	case probe.Info != nil && len(probe.Info.RuntimeSpec) > 0:
		in.Kind = "crictl inspect output (info.runtimeSpec)"
		data = probe.Info.RuntimeSpec
		if probe.Status != nil {
			in.ID = probe.Status.ID
		}
	default:
		return Input{}, fmt.Errorf("%s: neither an OCI runtime spec (no ociVersion) nor crictl inspect output (no info.runtimeSpec)", name)
	}
	in.Spec = &specs.Spec{}
	if err := json.Unmarshal(data, in.Spec); err != nil {
		return Input{}, jsonpos.Error(name, data, err)
	}
	return in, nil
}

// Exit codes of `nri-guard check`.
const (
	ExitAllow    = 0
	ExitRefuse   = 1
	ExitBadInput = 2
)

// Report prints the decision for people and returns the exit code.
func Report(w io.Writer, in Input, c *view.Container, d *engine.Decision, assumed []string) int {
	fmt.Fprintf(w, "input:     %s: %s\n", in.Kind, in.Name)
	fmt.Fprintf(w, "container: %s (image %s)\n", engine.WorkloadName(c), orUnknown(c.Image))
	for _, a := range assumed {
		fmt.Fprintf(w, "assumed:   %s\n", a)
	}
	if d.Exception != nil {
		fmt.Fprintf(w, "exception: %s (%s)\n", d.Exception.Name, d.Exception.Source)
	}
	fmt.Fprintf(w, "decision:  %s\n", headline(d))
	for _, f := range d.Findings {
		fmt.Fprintf(w, "  [%s] %s\n", f.Mode, f.Text())
	}
	switch d.Action {
	case engine.Refuse:
		fmt.Fprintf(w, "\nthe runtime would answer:\n  %s\n", d.RefusalText())
		return ExitRefuse
	case engine.Rewrite:
		fmt.Fprintln(w, "\nchanges to the spec:")
		for _, r := range d.Rewrites {
			ch := r.Describe()
			fmt.Fprintf(w, "  %s\n    - %s\n    + %s\n", ch.Field, ch.Before, ch.After)
		}
	}
	return ExitAllow
}

func headline(d *engine.Decision) string {
	switch d.Action {
	case engine.Refuse:
		return "REFUSE"
	case engine.Rewrite:
		return "REWRITE (allowed after the changes below)"
	case engine.Audit:
		return "AUDIT (allowed unchanged; enforce mode would act on the findings below)"
	}
	return "ALLOW (nothing to change)"
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}
