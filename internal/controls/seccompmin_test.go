package controls

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/profiles"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// minimumProfile reads a profile of internal/profiles/testdata/minimum as
// containerd would.
func minimumProfile(t *testing.T, name string) *specs.LinuxSeccomp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "profiles", "testdata", "minimum", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.DecodeAsRuntime(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func localhost(p *specs.LinuxSeccomp) *view.Container {
	return withSeccomp(view.Seccomp{State: view.SeccompLocalhost, LocalhostRef: "/var/lib/kubelet/seccomp/p.json", Profile: p})
}

// TestSeccompConfining: localhost: confining allows a Localhost profile
// only when it refuses the minimum set or is listed by digest; the same
// judgement holds for a filter of unknown origin (the wrapper's and
// check's view of config.json) less what containerd's RuntimeDefault
// itself lets through, and for a filter another plugin set.
func TestSeccompConfining(t *testing.T) {
	builtin, err := profiles.DefaultSeccomp()
	if err != nil {
		t.Fatal(err)
	}
	weak := minimumProfile(t, "allow-by-default.json")
	likeDefault := minimumProfile(t, "runtime-default-like.json")
	const confining = "seccomp:\n  localhost: confining\n"
	listed := confining + "  allowProfiles: [" + profiles.Digest(weak) + "]\n"
	runTable(t, Seccomp{}, []testCase{
		{name: "weak Localhost allowed by default", c: localhost(weak)},
		{name: "weak Localhost refused", policy: confining, c: localhost(weak),
			want: []string{"seccomp: linux.seccomp = Localhost /var/lib/kubelet/seccomp/p.json (" + profiles.Digest(weak) +
				"): the profile does not confine: it lets through 50 escape-critical calls the built-in profile refuses: add_key, adjtimex, bpf,"},
			verdicts: []Verdict{Refuse}},
		{name: "refusal names the calls, what lets them through and the settings", policy: confining, c: localhost(weak),
			want: []string{"keyctl, mount, mount_setattr, move_mount,"}},
		{name: "refusal says how to allow", policy: confining, c: localhost(weak),
			want: []string{"(by default action SCMP_ACT_ALLOW), by rule seccomp.localhost (test.yaml:5); refuse those calls in the profile (nri-guard seccomp digest FILE lists what it lets through), list its digest in seccomp.allowProfiles, or to allow it, add an exception for this pod that sets seccomp.localhost: allow"}},
		{name: "weak Localhost listed by digest", policy: listed, c: localhost(weak)},
		{name: "the built-in as a Localhost profile", policy: confining, c: localhost(builtin)},
		{name: "a small confining allowlist", policy: confining, c: localhost(minimumProfile(t, "confining.json"))},
		{name: "RuntimeDefault-like Localhost refused for ptrace", policy: confining, c: localhost(likeDefault),
			want: []string{"it lets through 4 escape-critical calls the built-in profile refuses: name_to_handle_at, process_vm_readv, process_vm_writev, ptrace (by syscalls[0] SCMP_ACT_ALLOW; syscalls[1] SCMP_ACT_ALLOW)"}},
		{name: "Localhost whose filter is unknown refused", policy: confining,
			c:    withSeccomp(view.Seccomp{State: view.SeccompLocalhost, LocalhostRef: "p.json", ProfileError: "not an absolute path"}),
			want: []string{"the profile cannot be judged (not an absolute path)"}},
		{name: "RuntimeDefault passes", policy: confining, c: withSeccomp(view.Seccomp{State: view.SeccompRuntimeDefault})},

		// The wrapper and check: a filter in config.json.
		{name: "weak filter in the spec refused", policy: confining, c: withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: weak}),
			want: []string{"linux.seccomp = filter in the spec (sha256:"}},
		{name: "weak filter in the spec listed", policy: listed, c: withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: weak})},
		{name: "runtime default's shape passes in the spec", policy: confining, c: withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: likeDefault})},
		{name: "own injected profile passes in the spec", policy: confining, c: withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: testProfile})},

		// Validation: a filter another plugin set.
		{name: "another plugin's weak filter names what it lets through", policy: confining,
			c:    withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: weak, AddedBy: "20-evil"}),
			want: []string{"another plugin replaced the container's seccomp filter; it lets through"}},
		{name: "another plugin's filter listed by digest", policy: listed,
			c: withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: weak, AddedBy: "20-evil"})},
	})
}

// The node's own seccomp.profile, once nri-guard injected it, shows in
// config.json like any filter: it is the admin's choice, not held to the
// minimum.
func TestSeccompConfiningKeepsTheNodesOwnProfile(t *testing.T) {
	weak := minimumProfile(t, "allow-by-default.json")
	s := loadControls(t, "seccomp:\n  localhost: confining\n")
	env := &Env{Seccomp: map[policy.HostPath]*specs.LinuxSeccomp{"": testProfile, "/etc/nri-guard/loose.json": weak}}
	if got := (Seccomp{}).Check(withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: weak}), s, env); len(got) != 0 {
		t.Fatalf("own profile: %s", texts(got))
	}
	delete(env.Seccomp, "/etc/nri-guard/loose.json")
	if got := (Seccomp{}).Check(withSeccomp(view.Seccomp{State: view.SeccompCustom, Profile: weak}), s, env); len(got) != 1 {
		t.Fatalf("not the node's: %s", texts(got))
	}
}
