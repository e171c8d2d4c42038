package controls

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// testCase is one row of a control's table: a container, optional policy
// text for the controls section, and what must come out.
type testCase struct {
	name string
	// policy is YAML under `controls:`; empty means the defaults.
	policy string
	c      *view.Container
	// want lists a fragment of each finding's Text(), in order; empty
	// means the container passes.
	want []string
	// verdicts, if set, lists each finding's verdict.
	verdicts []Verdict
}

func runTable(t *testing.T, ctl Control, cases []testCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings := loadControls(t, tc.policy)
			got := ctl.Check(tc.c, settings, testEnv())
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tc.want), texts(got))
			}
			for i, f := range got {
				if f.Control != ctl.Meta().ID {
					t.Errorf("finding %d names control %q, want %q", i, f.Control, ctl.Meta().ID)
				}
				if !strings.Contains(f.Text(), tc.want[i]) {
					t.Errorf("finding %d:\n  %s\nlacks\n  %s", i, f.Text(), tc.want[i])
				}
				if tc.verdicts != nil && f.Verdict != tc.verdicts[i] {
					t.Errorf("finding %d verdict %v, want %v", i, f.Verdict, tc.verdicts[i])
				}
				if f.Verdict == Rewrite && f.Rewrite == nil {
					t.Errorf("finding %d is a rewrite without a rewrite", i)
				}
			}
		})
	}
}

func loadControls(t *testing.T, controls string) *policy.Controls {
	t.Helper()
	doc := "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"
	if controls != "" {
		doc += "controls:\n" + indentLines(controls, "  ")
	}
	p, err := policy.Parse(policy.Input{Name: "test.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatalf("policy: %v\n%s", err, doc)
	}
	return &p.Controls
}

func indentLines(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

var testProfile = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}

func testEnv() *Env {
	return &Env{Seccomp: map[policy.HostPath]*specs.LinuxSeccomp{"": testProfile}, Caller: Caller{Self: "10-nri-guard", SeccompErrnoRet: true}}
}

func texts(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Text() + "\n")
	}
	return b.String()
}

// podNS returns the namespaces of an ordinary pod container: all its own,
// joined from the sandbox.
func podNS() []view.Namespace {
	return []view.Namespace{
		{Type: "pid", Path: "/proc/4242/ns/pid"}, {Type: "ipc", Path: "/proc/4242/ns/ipc"},
		{Type: "uts", Path: "/proc/4242/ns/uts"}, {Type: "network", Path: "/proc/4242/ns/net"},
		{Type: "mount"},
	}
}

func ctr(mod func(c *view.Container)) *view.Container {
	c := &view.Container{
		ID: "c1", Name: "app",
		Pod:        view.Pod{ID: "sandbox1", UID: "uid-1", Name: "web", Namespace: "default"},
		Image:      "docker.io/library/busybox:1.36",
		Namespaces: podNS(),
		Seccomp:    view.Seccomp{State: view.SeccompRuntimeDefault},
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func bind(src, dst string, opts ...string) view.Mount {
	return view.Mount{Source: src, Destination: dst, Type: "bind", Options: append([]string{"rbind"}, opts...)}
}

func TestRegistryIsComplete(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range policy.ControlKeys() {
		keys[k] = true
	}
	ids := map[string]bool{}
	for _, c := range All {
		m := c.Meta()
		if ids[m.ID] {
			t.Errorf("control id %s registered twice", m.ID)
		}
		ids[m.ID] = true
		if !keys[m.Key] {
			t.Errorf("control %s has policy key %q the policy schema does not know", m.ID, m.Key)
		}
		delete(keys, m.Key)
		if m.Does == "" || m.Reads == "" {
			t.Errorf("control %s lacks its reads or does (the README's control table)", m.ID)
		}
	}
	for k := range keys {
		t.Errorf("policy key %s has no control", k)
	}
}
