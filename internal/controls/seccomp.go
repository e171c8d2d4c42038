package controls

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/profiles"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Seccomp makes every container run under a seccomp filter: without one,
// the kernel's whole system call surface (mount, bpf, keyctl, ...) is one
// bug away from the node.
type Seccomp struct{}

func (Seccomp) Meta() Meta {
	return Meta{
		ID: "seccomp", Key: "seccomp", Needs: CapSeccompAdjustment,
		Reads: "requested profile, the filter in the spec",
		Does:  "injects the node's default profile into unconfined containers (or refuses them); `localhost: allow | refuse | confining`: under `confining` (the presets) a Localhost profile or a filter of unknown origin must refuse the escape-critical calls the built-in refuses (50: the mount family, unshare/setns/clone with namespace flags, bpf, perf_event_open, keyrings, ptrace, process_vm_*, kcmp, pidfd_getfd, file handles, kexec, reboot, modules, userfaultfd, io_uring, I/O ports, swap, clock setters, syslog) or be listed by digest in `allowProfiles` (`nri-guard seccomp digest FILE`); refuses a filter replaced by another plugin unless listed",
	}
}

func (Seccomp) Check(c *view.Container, s *policy.Controls, env *Env) []Finding {
	sc := &s.Seccomp
	switch {
	case c.Seccomp.State == view.SeccompUnconfined:
		return []Finding{unconfined(c, sc, env)}
	case c.Seccomp.State == view.SeccompLocalhost && sc.Localhost.Value == policy.LocalhostRefuse:
		return []Finding{{
			Control: "seccomp", Field: "linux.seccomp", Value: "Localhost " + c.Seccomp.LocalhostRef,
			Problem: "custom profiles from the node are not allowed",
			Rule:    "seccomp.localhost", Source: sc.Localhost.Source,
			Verdict: Refuse, Fix: exceptionFix("seccomp.localhost: allow"),
			Grant: &policy.Grant{Key: "seccomp.localhost", Value: "allow"},
		}}
	case c.Seccomp.State == view.SeccompLocalhost && sc.Localhost.Value == policy.LocalhostConfining:
		return notConfining(c, sc, nil, nil)
	case c.Seccomp.State == view.SeccompCustom && c.Seccomp.AddedBy != "" && c.Seccomp.AddedBy != env.Self:
		return replaced(c, sc)
	case c.Seccomp.State == view.SeccompCustom && c.Seccomp.AddedBy == "" && sc.Localhost.Value == policy.LocalhostConfining:
		// config.json (the wrapper, check) does not say where a filter
		// came from, and containerd's RuntimeDefault looks like any
		// other: it is held to the minimum less what that profile
		// itself lets through.
		return notConfining(c, sc, profiles.RuntimeDefaultGaps, env)
	}
	return nil
}

// replaced refuses a filter another NRI plugin set, unless its digest is
// listed in seccomp.allowProfiles.
func replaced(c *view.Container, sc *policy.Seccomp) []Finding {
	value, problem := "replaced", "another plugin replaced the container's seccomp filter"
	if p := c.Seccomp.Profile; p != nil {
		digest := profiles.Digest(p)
		if slices.Contains(sc.AllowProfiles.Value, policy.ProfileDigest(digest)) {
			return nil
		}
		value += " (" + digest + ")"
		if leaks := profiles.Judge(p, profiles.NativeArch()); len(leaks) > 0 {
			problem += "; " + leakText(leaks)
		}
	}
	return []Finding{{
		Control: "seccomp", Field: "linux.seccomp", Value: value,
		Problem: problem,
		By:      c.Seccomp.AddedBy,
		Rule:    "seccomp.mode", Source: sc.Mode.Source,
		Verdict: Refuse, Fix: "remove the seccomp adjustment from that plugin, list the filter's digest in seccomp.allowProfiles, or add an exception for this pod that sets seccomp.mode: off",
	}}
}

// notConfining judges a Localhost profile, or a filter of unknown origin,
// against the minimum set (internal/profiles.Minimum), not counting the
// calls in skip. With env, the profiles nri-guard injects count as the
// node's own choice. The judgement comes first: it is cheaper than a
// digest, and most filters pass it.
func notConfining(c *view.Container, sc *policy.Seccomp, skip []string, env *Env) []Finding {
	value := "filter in the spec"
	if c.Seccomp.State == view.SeccompLocalhost {
		value = "Localhost " + c.Seccomp.LocalhostRef
	}
	f := Finding{
		Control: "seccomp", Field: "linux.seccomp", Value: value,
		Rule: "seccomp.localhost", Source: sc.Localhost.Source, Verdict: Refuse,
	}
	p := c.Seccomp.Profile
	if p == nil {
		f.Problem = "the profile cannot be judged (" + c.Seccomp.ProfileError + "), and seccomp.localhost: confining allows only profiles that refuse the minimum set"
		f.Fix = "give the profile by its absolute path on the node, or " + exceptionFix("seccomp.localhost: allow")
		f.Grant = &policy.Grant{Key: "seccomp.localhost", Value: "allow"}
		return []Finding{f}
	}
	var leaks []profiles.Leak
	for _, l := range profiles.Judge(p, profiles.NativeArch()) {
		if !slices.Contains(skip, l.Name) {
			leaks = append(leaks, l)
		}
	}
	if len(leaks) == 0 {
		return nil
	}
	digest := profiles.Digest(p)
	if slices.Contains(sc.AllowProfiles.Value, policy.ProfileDigest(digest)) || (env != nil && ownProfile(digest, env)) {
		return nil
	}
	f.Value += " (" + digest + ")"
	f.Problem = "the profile does not confine: " + leakText(leaks)
	f.Fix = "refuse those calls in the profile (nri-guard seccomp digest FILE lists what it lets through), list its digest in seccomp.allowProfiles, or " + exceptionFix("seccomp.localhost: allow")
	// The digest admits this very filter and nothing else.
	f.Grant = &policy.Grant{Key: "seccomp.allowProfiles", Add: []string{digest}}
	return []Finding{f}
}

// leakText names the calls of the minimum set a filter lets through and
// what lets them through.
func leakText(leaks []profiles.Leak) string {
	var names, by []string
	for _, l := range leaks {
		names = append(names, l.Name)
		if !slices.Contains(by, l.By) && len(by) < 3 {
			by = append(by, l.By)
		}
	}
	return fmt.Sprintf("it lets through %d escape-critical calls the built-in profile refuses: %s (by %s)",
		len(leaks), strings.Join(names, ", "), strings.Join(by, "; "))
}

// ownProfile says whether a filter is one nri-guard injects (the
// built-in or the policy's seccomp.profile): the node's own choice.
func ownProfile(digest string, env *Env) bool {
	for _, own := range env.Seccomp {
		if own != nil && profiles.Digest(own) == digest {
			return true
		}
	}
	return false
}

func unconfined(c *view.Container, sc *policy.Seccomp, env *Env) Finding {
	f := Finding{
		Control: "seccomp", Field: "linux.seccomp", Value: "unconfined",
		By:   c.Seccomp.AddedBy,
		Rule: "seccomp.unconfined", Source: sc.Unconfined.Source,
		Fix: "set a seccomp profile (RuntimeDefault) in the pod's securityContext, or add an exception for this pod that sets seccomp.mode: off",
	}
	profile := env.Seccomp[sc.Profile.Value]
	name := "the node's default profile"
	if sc.Profile.Value != "" {
		name = "profile " + string(sc.Profile.Value)
	}
	switch {
	case sc.Unconfined.Value == policy.SeccompRefuse || profile == nil:
		f.Problem, f.Verdict = "containers must run under a seccomp profile", Refuse
		return f
	case hasRuleErrno(profile) && !env.SeccompErrnoRet:
		f.Problem, f.Verdict = "containers must run under a seccomp profile, and "+name+" has rules with their own errnoRet, which this runtime cannot take (containerd 2.2 crashes on them), so it is refused instead of injected", Refuse
		return f
	}
	f.Problem = "no seccomp filter; " + name + " is injected"
	f.Verdict = Rewrite
	f.Rewrite = &view.Rewrite{Kind: view.SetSeccomp, Seccomp: profile, SeccompName: name}
	return f
}

func hasRuleErrno(p *specs.LinuxSeccomp) bool {
	for _, r := range p.Syscalls {
		if r.ErrnoRet != nil {
			return true
		}
	}
	return false
}
