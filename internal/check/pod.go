package check

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/kubepod"
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
	for _, f := range d.Findings {
		fmt.Fprintf(w, "  [%s] %s\n", f.Mode, f.Text())
	}
	for _, rw := range d.Rewrites {
		ch := rw.Describe()
		fmt.Fprintf(w, "  change %s: - %s + %s\n", ch.Field, ch.Before, ch.After)
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
