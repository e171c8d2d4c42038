package controls

import (
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withSeccomp(s view.Seccomp) *view.Container {
	return ctr(func(c *view.Container) { c.Seccomp = s })
}

func TestSeccomp(t *testing.T) {
	runTable(t, Seccomp{}, []testCase{
		{name: "runtime default passes", c: ctr(nil)},
		{name: "unconfined gets the default profile", c: withSeccomp(view.Seccomp{State: view.SeccompUnconfined}),
			want:     []string{"seccomp: linux.seccomp = unconfined: no seccomp filter; the node's default profile is injected, by rule seccomp.unconfined (built-in default)"},
			verdicts: []Verdict{Rewrite}},
		{name: "refuse instead", policy: "seccomp:\n  unconfined: refuse\n", c: withSeccomp(view.Seccomp{State: view.SeccompUnconfined}),
			want: []string{"containers must run under a seccomp profile, by rule seccomp.unconfined (test.yaml:5)"}, verdicts: []Verdict{Refuse}},
		{name: "localhost allowed by default", c: withSeccomp(view.Seccomp{State: view.SeccompLocalhost, LocalhostRef: "profiles/a.json"})},
		{name: "localhost refused by policy", policy: "seccomp:\n  localhost: refuse\n",
			c:    withSeccomp(view.Seccomp{State: view.SeccompLocalhost, LocalhostRef: "profiles/a.json"}),
			want: []string{"linux.seccomp = Localhost profiles/a.json: custom profiles from the node are not allowed"}},
		{name: "own injected profile passes", c: withSeccomp(view.Seccomp{State: view.SeccompCustom, AddedBy: "10-nri-guard"})},
		{name: "profile from an offline spec passes", c: withSeccomp(view.Seccomp{State: view.SeccompCustom})},
		{name: "another plugin replacing the filter refused", c: withSeccomp(view.Seccomp{State: view.SeccompCustom, AddedBy: "20-evil"}),
			want: []string{"another plugin replaced the container's seccomp filter (set by NRI plugin 20-evil)"}},
		{name: "another plugin making it unconfined refused in validation", c: withSeccomp(view.Seccomp{State: view.SeccompUnconfined, AddedBy: "20-evil"}),
			want: []string{"(set by NRI plugin 20-evil)"}},
		{name: "a missing profile refuses rather than pretends", policy: "seccomp:\n  profile: /etc/nri-guard/missing.json\n",
			c: withSeccomp(view.Seccomp{State: view.SeccompUnconfined}), want: []string{"containers must run under a seccomp profile"}, verdicts: []Verdict{Refuse}},
	})
}

func TestSeccompProfileWithRuleErrnoOnOldRuntimes(t *testing.T) {
	errno := uint(38)
	prof := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &errno}}}
	s := loadControls(t, "")
	c := withSeccomp(view.Seccomp{State: view.SeccompUnconfined})
	env := &Env{Seccomp: map[policy.HostPath]*specs.LinuxSeccomp{"": prof}}
	got := Seccomp{}.Check(c, s, env)
	if len(got) != 1 || got[0].Verdict != Refuse || !strings.Contains(got[0].Text(), "containerd 2.2 crashes on them") {
		t.Fatalf("old runtime: %s", texts(got))
	}
	env.SeccompErrnoRet = true
	if got := (Seccomp{}).Check(c, s, env); len(got) != 1 || got[0].Verdict != Rewrite {
		t.Fatalf("new runtime: %s", texts(got))
	}
}
