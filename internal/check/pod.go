package check

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/kubepod"
	"github.com/nri-guard/nri-guard/internal/view"
	"gopkg.in/yaml.v3"
)

// IsManifest reports whether data is a Kubernetes manifest (YAML or JSON
// with apiVersion and kind) rather than an OCI spec or crictl output.
func IsManifest(data []byte) bool {
	var probe struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for range 100 { // skip leading empty documents and comments
		var n yaml.Node
		if dec.Decode(&n) != nil {
			return false
		}
		if len(n.Content) == 0 {
			continue
		}
		return n.Content[0].Decode(&probe) == nil && probe.APIVersion != "" && probe.Kind != ""
	}
	return false
}

// PodResult is the decision for one container of a manifest's pod.
type PodResult struct {
	Container *kubepod.Container
	Decision  engine.Decision
}

// JudgeManifest translates every pod of the manifest the way kubelet and
// containerd would build its containers, and judges each one.
func JudgeManifest(name string, data []byte, eng *engine.Engine, opt kubepod.Options) ([]PodResult, error) {
	pods, err := kubepod.Decode(name, data)
	if err != nil {
		return nil, err
	}
	var out []PodResult
	for i := range pods {
		for _, c := range kubepod.Translate(&pods[i], opt) {
			out = append(out, PodResult{Container: c, Decision: eng.Decide(c.View())})
		}
	}
	return out, nil
}

// ReportManifest prints every container's decision and returns the exit
// code: refused when any container of any pod would be refused, by
// nri-guard or by kubelet itself.
func ReportManifest(w io.Writer, name string, results []PodResult, common []string) int {
	fmt.Fprintf(w, "input:     Kubernetes manifest: %s\n", name)
	for _, a := range common {
		fmt.Fprintf(w, "assumed:   %s\n", a)
	}
	code, pod := ExitAllow, (*kubepod.Pod)(nil)
	for _, r := range results {
		if r.Container.Pod != pod {
			pod = r.Container.Pod
			fmt.Fprintf(w, "\n== %s %s (%s): pod %s/%s\n", pod.Kind, pod.Name, pod.Source, pod.Meta.Namespace, pod.Meta.Name)
		}
		if reportContainer(w, &r) == ExitRefuse {
			code = ExitRefuse
		}
	}
	fmt.Fprintf(w, "\n%s\n", summary(results))
	return code
}

func reportContainer(w io.Writer, r *PodResult) int {
	c, d := r.Container, &r.Decision
	fmt.Fprintf(w, "\n-- %s %s (image %s)\n", c.Kind, c.Name, orUnknown(d.Container.Image))
	for _, a := range c.Assumed {
		fmt.Fprintf(w, "assumed:   %s\n", a)
	}
	if d.Exception != nil {
		fmt.Fprintf(w, "exception: %s (%s)\n", d.Exception.Name, d.Exception.Source)
	}
	fmt.Fprintf(w, "decision:  %s\n", headline(d))
	for _, line := range groupedFindings(d.Findings) {
		fmt.Fprintf(w, "  %s\n", line)
	}
	for _, line := range groupedChanges(d.Rewrites) {
		fmt.Fprintf(w, "  change %s\n", line)
	}
	if c.KubeletRefuses != "" {
		fmt.Fprintf(w, "kubelet:   %s\n", c.KubeletRefuses)
		return ExitRefuse
	}
	if d.Action == engine.Refuse {
		return ExitRefuse
	}
	return ExitAllow
}

func summary(results []PodResult) string {
	counts := map[engine.Action]int{}
	for _, r := range results {
		counts[r.Decision.Action]++
	}
	var parts []string
	for _, a := range []engine.Action{engine.Refuse, engine.Rewrite, engine.Audit, engine.Allow} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	return fmt.Sprintf("%d containers (pod sandboxes included): %s", len(results), strings.Join(parts, ", "))
}

// groupedFindings prints a finding per line, except that rewrites by the
// same rule (a dozen capabilities dropped) share one line: a pod has
// several containers, and the report must stay readable.
func groupedFindings(fs []controls.Finding) []string {
	var out []string
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && sameRewrite(fs[i], fs[j]) {
			j++
		}
		if j == i+1 {
			out = append(out, fmt.Sprintf("[%s] %s", fs[i].Mode, fs[i].Text()))
		} else {
			values := make([]string, 0, j-i)
			for _, f := range fs[i:j] {
				values = append(values, f.Value)
			}
			f := fs[i]
			out = append(out, fmt.Sprintf("[%s] %s: %s = %s: %s, by rule %s (%s)", f.Mode, f.Control, f.Field, strings.Join(values, ", "), f.Problem, f.Rule, f.Source))
		}
		i = j
	}
	return out
}

func sameRewrite(a, b controls.Finding) bool {
	return a.Verdict == controls.Rewrite && b.Verdict == controls.Rewrite && a.Control == b.Control &&
		a.Field == b.Field && a.Problem == b.Problem && a.Rule == b.Rule && a.Source == b.Source && a.Mode == b.Mode
}

// groupedChanges does the same for the changes to the spec.
func groupedChanges(rs []view.Rewrite) []string {
	var out []string
	var last view.Change
	for _, r := range rs {
		ch := r.Describe()
		if len(out) > 0 && ch.Field == last.Field && ch.After == last.After {
			last.Before += ", " + ch.Before
			out[len(out)-1] = fmt.Sprintf("%s: - %s + %s", last.Field, last.Before, last.After)
			continue
		}
		last = ch
		out = append(out, fmt.Sprintf("%s: - %s + %s", ch.Field, ch.Before, ch.After))
	}
	return out
}
