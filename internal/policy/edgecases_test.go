package policy

import (
	"bytes"
	"strings"
	"testing"
)

// Two drop-ins that contradict: the later in lexical order wins, and
// `policy show` names the file the value came from.
func TestContradictingDropInsLaterWins(t *testing.T) {
	head := "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"
	p, err := Parse(Input{Name: "policy.yaml", Data: []byte(head)},
		Input{Name: "policy.d/10-refuse.yaml", Data: []byte(head + "controls:\n  seccomp: {unconfined: refuse}\n")},
		Input{Name: "policy.d/20-inject.yaml", Data: []byte(head + "controls:\n  seccomp: {unconfined: inject}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Controls.Seccomp.Unconfined.Value; got != SeccompInject {
		t.Fatalf("unconfined %q, want the later drop-in's inject", got)
	}
	var shown bytes.Buffer
	p.Show(&shown)
	for _, line := range strings.Split(shown.String(), "\n") {
		if strings.Contains(line, "unconfined:") {
			if !strings.Contains(line, "inject") || !strings.Contains(line, "policy.d/20-inject.yaml:4") {
				t.Fatalf("policy show: %q, want inject from policy.d/20-inject.yaml:4", line)
			}
			return
		}
	}
	t.Fatalf("policy show has no unconfined line:\n%s", shown.String())
}

// A policy that says nothing but what it is gets the built-in defaults,
// which refuse: never allow-all.
func TestEmptyPolicyIsTheSafeDefaults(t *testing.T) {
	p, err := Parse(Input{Name: "policy.yaml", Data: []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n")})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Controls
	if p.DefaultMode.Value != Enforce || c.HostNamespaces.Mode.Value != Enforce || c.Privileged.Mode.Value != Enforce ||
		c.HostMounts.Mode.Value != Enforce || len(c.HostMounts.Paths.Value) == 0 || c.Capabilities.Mode.Value != Enforce {
		t.Fatalf("an empty policy is not the enforcing defaults: %+v", c)
	}
}

// An exception naming a namespace, pod or container no Kubernetes object
// can have is warned about at load: it selects nothing.
func TestSelectorThatMatchesNothingIsWarned(t *testing.T) {
	p, err := Parse(Input{Name: "policy.yaml", Data: []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\nexceptions:\n" +
		"  - name: typo\n    match: {namespaces: [Monitoring, kube_system, ok-ns, team-*], pods: [a/b], containers: [C1]}\n    controls: {seccomp: {mode: audit}}\n")})
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(p.SelectorWarnings(), "\n")
	for _, want := range []string{`match.namespaces "Monitoring" is no namespace's name`, `match.namespaces "kube_system"`, `match.pods "a/b" is no pod's name`, `match.containers "C1"`} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %s:\n%s", want, warnings)
		}
	}
	for _, fine := range []string{`"ok-ns" is no`, `"team-*" is no`} {
		if strings.Contains(warnings, fine) {
			t.Errorf("warned about %s:\n%s", fine, warnings)
		}
	}
}
