package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nri-guard/nri-guard/internal/check"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/profiles"
	"github.com/nri-guard/nri-guard/internal/subpath"
	"github.com/nri-guard/nri-guard/internal/view"
)

// labelFlags collects repeated --label k=v flags.
type labelFlags map[string]string

func (l labelFlags) String() string { return fmt.Sprint(map[string]string(l)) }

func (l labelFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	l[k] = v
	return nil
}

// workloadFlags name a workload where the input does not (pod labels are
// never in a spec).
type workloadFlags struct {
	namespace, pod, container, image string
	labels                           labelFlags
}

func (w *workloadFlags) register(fs *flag.FlagSet) {
	w.labels = labelFlags{}
	fs.StringVar(&w.namespace, "namespace", "", "pod namespace (overrides the spec's CRI annotation)")
	fs.StringVar(&w.pod, "pod", "", "pod name (overrides the spec's CRI annotation)")
	fs.StringVar(&w.container, "container", "", "container name (overrides the spec's CRI annotation)")
	fs.StringVar(&w.image, "image", "", "image reference (overrides the spec's CRI annotation)")
	fs.Var(w.labels, "label", "pod label key=value (repeatable)")
}

func (w *workloadFlags) applyTo(c *view.Container) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Pod.Namespace, w.namespace)
	set(&c.Pod.Name, w.pod)
	set(&c.Name, w.container)
	set(&c.Image, w.image)
	c.Pod.Labels = w.labels
}

// runCheck judges a spec or a manifest offline: exit 0 allowed, 1
// refused, 2 bad input.
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nri-guard check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf policyFlags
	var wf workloadFlags
	var nf nodeFlags
	pf.register(fs)
	wf.register(fs)
	nf.register(fs)
	if err := fs.Parse(args); err != nil {
		return check.ExitBadInput
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: nri-guard check [flags] SPEC.json|POD.yaml|-")
		return check.ExitBadInput
	}
	name, data, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintln(stderr, "nri-guard check:", err)
		return check.ExitBadInput
	}
	pol, env, err := nf.load(&pf)
	if err != nil {
		fmt.Fprintf(stderr, "nri-guard check: bad policy:\n%v\n", err)
		return check.ExitBadInput
	}
	if check.IsManifest(data) {
		return checkManifest(name, data, engine.New(pol, env, nf.caller()), &nf, stdout, stderr)
	}
	in, err := check.Parse(name, data)
	if err != nil {
		fmt.Fprintln(stderr, "nri-guard check:", err)
		return check.ExitBadInput
	}
	c := view.FromSpec(in.ID, in.Spec, view.SpecSource{ResolveSubPath: subpath.HostPath})
	wf.applyTo(c)
	d := engine.New(pol, env, nf.caller()).Decide(c)
	return check.Report(stdout, in, c, &d, assumptions(c, &wf))
}

func readInput(arg string, stdin io.Reader) (string, []byte, error) {
	if arg == "-" {
		data, err := io.ReadAll(stdin)
		return "<stdin>", data, err
	}
	data, err := os.ReadFile(arg)
	return arg, data, err
}

// assumptions lists what the offline answer could not know for sure.
func assumptions(c *view.Container, wf *workloadFlags) []string {
	var out []string
	if len(wf.labels) == 0 {
		out = append(out, "pod labels: none (a spec carries none; pass --label k=v)")
	}
	if c.Pod.Namespace == "" || c.Pod.Name == "" {
		out = append(out, "pod identity: not in the spec's CRI annotations (pass --namespace and --pod)")
	}
	out = append(out, "namespace paths: only /proc/1/ns/* counts as the host's (the node compares inodes)")
	if c.Seccomp.Profile != nil {
		out = append(out, "seccomp filter "+profiles.Digest(c.Seccomp.Profile)+": of unknown origin (RuntimeDefault and a Localhost profile look alike in a spec); under seccomp.localhost: confining it must refuse the minimum set, less what containerd's RuntimeDefault lets through, or be listed in seccomp.allowProfiles")
	}
	return out
}
