package check

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseDetectsBundleAndCrictl(t *testing.T) {
	bundle, err := os.ReadFile("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	in, err := Parse("config.json", bundle)
	if err != nil || !strings.HasPrefix(in.Kind, "OCI runtime spec") || len(in.Spec.Mounts) != 2 {
		t.Fatalf("bundle: %+v %v", in, err)
	}
	crictl := []byte(`{"status":{"id":"abc123"},"info":{"runtimeSpec":` + string(bundle) + `}}`)
	in, err = Parse("inspect.json", crictl)
	if err != nil || !strings.HasPrefix(in.Kind, "crictl inspect") || in.ID != "abc123" || in.Spec.Annotations[view.AnnotationSandboxName] != "evil" {
		t.Fatalf("crictl: %+v %v", in, err)
	}
}

func TestParseErrorsPointAtTheLine(t *testing.T) {
	cases := map[string]string{
		"{\n  \"ociVersion\": \"1\",\n  \"mounts\": [,]\n}": "x.json:3:14: invalid character ','",
		"{\n  \"ociVersion\": \"1\",\n  \"mounts\": {}\n}":  "x.json:3:14: json: cannot unmarshal object into Go struct field Spec.mounts",
		"{\"kind\": \"Pod\"}":                               "x.json: neither an OCI runtime spec",
		"":                                                  "x.json:1:1: unexpected end of JSON input",
	}
	for doc, want := range cases {
		_, err := Parse("x.json", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", doc, err, want)
		}
	}
}

func decide(t *testing.T, policyDoc string, spec *specs.Spec) (*view.Container, engine.Decision) {
	t.Helper()
	p, err := policy.Parse(policy.Input{Name: "policy.yaml", Data: []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n" + policyDoc)})
	if err != nil {
		t.Fatal(err)
	}
	env := controls.Profiles{"": {DefaultAction: specs.ActErrno}}
	c := view.FromSpec("id", spec, view.SpecSource{})
	return c, engine.New(p, env, controls.SeesEverything("test")).Decide(c)
}

func TestReportRefusal(t *testing.T) {
	data, _ := os.ReadFile("testdata/config.json")
	in, err := Parse("config.json", data)
	if err != nil {
		t.Fatal(err)
	}
	c, d := decide(t, "", in.Spec)
	var out bytes.Buffer
	if code := Report(&out, in, c, &d, []string{"pod labels: none"}); code != ExitRefuse {
		t.Fatalf("exit %d, want %d", code, ExitRefuse)
	}
	for _, want := range []string{
		"input:     OCI runtime spec (a bundle's config.json): config.json",
		"container: kube-system/evil/c1 (image docker.io/library/busybox:1.36)",
		"assumed:   pod labels: none",
		"decision:  REFUSE",
		"[enforce] seccomp: linux.seccomp = unconfined",
		"nri-guard: refused kube-system/evil/c1: host-mounts: mounts[/host-run].source = /run: contains /run/k3s/containerd/containerd.sock",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReportRewriteShowsTheDiff(t *testing.T) {
	spec := &specs.Spec{
		Mounts: []specs.Mount{{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}}},
		Linux:  &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "network"}}},
	}
	c, d := decide(t, "controls:\n  hostMounts: {action: readOnly}\n", spec)
	var out bytes.Buffer
	if code := Report(&out, Input{Name: "s.json", Kind: "OCI runtime spec"}, c, &d, nil); code != ExitAllow {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, want := range []string{
		"decision:  REWRITE",
		"  mounts[/logs]\n    - bind from /var/log [rbind,rw]\n    + bind from /var/log [rbind,ro]",
		"  linux.seccomp\n    - (none or unconfined)\n    + the node's default profile",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// FuzzCheckParse: arbitrary input is either parsed or rejected with an
// error, never a panic.
func FuzzCheckParse(f *testing.F) {
	data, err := os.ReadFile("testdata/config.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Parse("fuzz.json", data)
		if err == nil && in.Spec == nil {
			t.Fatal("parsed without a spec")
		}
	})
}
