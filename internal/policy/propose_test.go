package policy

import (
	"strings"
	"testing"
)

func TestGrantingKeepsTheListAndAddsOnlyWhatIsNeeded(t *testing.T) {
	p := mustParse(t, `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
controls:
  sysctls: {allow: [kernel.shm_rmid_forced]}
`)
	got, err := Granting(Controls{}, &p.Controls, []Grant{
		{Key: "sysctls.allow", Add: []string{"net.core.somaxconn"}},
		{Key: "sysctls.allow", Add: []string{"net.core.somaxconn", "net.ipv4.tcp_syncookies"}},
		{Key: "hostNamespaces.deny", Remove: []string{"network"}},
		{Key: "seccomp.localhost", Value: "allow"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := strs(got.Sysctls.Allow.Value); strings.Join(v, ",") != "kernel.shm_rmid_forced,net.core.somaxconn,net.ipv4.tcp_syncookies" || !got.Sysctls.Allow.Set {
		t.Errorf("sysctls.allow = %v", v)
	}
	if v := strs(got.HostNamespaces.Deny.Value); strings.Join(v, ",") != "pid,ipc" {
		t.Errorf("hostNamespaces.deny = %v", v)
	}
	if got.Seccomp.Localhost.Value != "allow" || got.Capabilities.Allow.Set || got.Sysctls.Mode.Set {
		t.Errorf("set more than the grants: %+v", got)
	}
	for _, bad := range []Grant{{Key: "nope.allow"}, {Key: "sysctls"}, {Key: "seccomp.localhost", Add: []string{"x"}}} {
		if _, err := Granting(Controls{}, &p.Controls, []Grant{bad}); err == nil {
			t.Errorf("grant %+v: no error", bad)
		}
	}
}

func TestWithDropInTakesExceptionsOnly(t *testing.T) {
	p := mustParse(t, "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n")
	_, err := p.WithDropIn(Input{Name: "x.yaml", Data: []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\ncontrols:\n  privileged: {mode: off}\n")})
	if err == nil || !strings.Contains(err.Error(), "exceptions only") {
		t.Fatalf("a drop-in changing the node's settings: %v", err)
	}
	doc, err := ProposalDocument([]string{"head"}, []Proposal{{
		Exception: Exception{Name: "p1", Match: Match{Namespaces: []Glob{"ns"}, Pods: []Glob{"*"}}, Controls: Controls{Privileged: Privileged{Mode: Setting[Mode]{Value: Off, Set: true}}}},
		Comment:   []string{"why"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.WithDropIn(Input{Name: "proposal", Data: doc})
	if err != nil {
		t.Fatalf("the rendered proposal does not load: %v\n%s", err, doc)
	}
	c, exc := q.For(Workload{Namespace: "ns", Pod: "any"})
	if exc == nil || exc.Name != "p1" || c.Privileged.Mode.Value != Off || len(p.Exceptions) != 0 {
		t.Fatalf("exception %v, privileged %v; the original policy gained %d", exc, c.Privileged.Mode.Value, len(p.Exceptions))
	}
}

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse(Input{Name: "test.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
