package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// SelectorWarnings lists selectors a workload may be able to claim, and
// image patterns whose meaning changed when `*` stopped spanning "/" and
// ":": the policy loads, but an admin should read each line once.
func (p *Policy) SelectorWarnings() []string {
	var out []string
	regs := strings.Join(p.SystemRegistries(), ", ")
	for _, e := range p.Exceptions {
		where := fmt.Sprintf("exception %q (%s)", e.Name, e.Source)
		out = append(out, unmatchable(where, e.Match)...)
		for _, pat := range e.Match.Images {
			out = append(out, patternWarnings(where+" match.images", pat, regs, true)...)
		}
		grants := e.grants()
		if grants == "" {
			continue
		}
		if !e.Match.pinsProgram() {
			out = append(out, fmt.Sprintf("%s grants %s but pins neither match.args nor an image digest: any pod its other selectors match (a pod or container name is any pod author's choice) gets it", where, grants))
		}
		if len(e.Match.Namespaces) == 0 {
			out = append(out, fmt.Sprintf("%s grants %s in every namespace: whoever may create pods anywhere can claim it; add match.namespaces", where, grants))
		}
		for _, ns := range e.Match.Namespaces {
			if hasWildcard(string(ns)) {
				out = append(out, fmt.Sprintf("%s grants %s to namespaces matching %q, also to one created later by whoever may create namespaces; name them", where, grants, ns))
			}
		}
		if len(e.Match.Labels) > 0 && len(e.Match.Images) == 0 && len(e.Match.Args) == 0 {
			out = append(out, fmt.Sprintf("%s grants %s by pod labels, which the pod's author sets", where, grants))
		}
	}
	for _, pat := range p.Controls.Images.Deny.Value {
		out = append(out, patternWarnings(fmt.Sprintf("images.deny (%s)", p.Controls.Images.Deny.Source), pat, regs, false)...)
	}
	for _, pat := range p.Controls.Images.Allow.Value {
		out = append(out, patternWarnings(fmt.Sprintf("images.allow (%s)", p.Controls.Images.Allow.Source), pat, regs, true)...)
	}
	return out
}

// ExceptionsByImage names the exceptions that select by image.
func (p *Policy) ExceptionsByImage() []string {
	var out []string
	for _, e := range p.Exceptions {
		if len(e.Match.Images) > 0 {
			out = append(out, e.Name)
		}
	}
	return out
}

func patternWarnings(where string, pat ImagePattern, regs string, grants bool) []string {
	c, err := compileImagePattern(string(pat))
	if err != nil || c.all || c.anyName {
		return nil
	}
	var out []string
	switch {
	case c.registry == "*" && grants:
		out = append(out, fmt.Sprintf("%s: %q matches every registry, so anyone who can push an image to some registry can claim it; name the registry, or leave it out for the system registries [%s]", where, pat, regs))
	case c.registry == "" && strings.HasPrefix(c.repo, "*"):
		out = append(out, fmt.Sprintf("%s: %q names no registry and starts with \"*\", which no longer spans \"/\": it matches only under the system registries [%s] (images.systemRegistries), never a registry of its own; write \"*/%s\" for every registry", where, pat, regs, strings.TrimLeft(string(pat), "*/")))
	case c.registry == "" && !grants:
		out = append(out, fmt.Sprintf("%s: %q names no registry, so it denies only under the system registries [%s]; write \"*/%s\" to deny it from every registry", where, pat, regs, pat))
	}
	return out
}

// grants names what an exception allows that reaches beyond the
// container's own sandbox: root, extra capabilities, host paths.
func (e *CompiledException) grants() string {
	c := &e.Exception.Controls
	var g []string
	if c.RunAsRoot.Mode.Set && c.RunAsRoot.Mode.Value != Enforce {
		g = append(g, "root (runAsRoot.mode: "+string(c.RunAsRoot.Mode.Value)+")")
	}
	if c.Capabilities.Allow.Set || (c.Capabilities.Mode.Set && c.Capabilities.Mode.Value != Enforce) {
		g = append(g, "capabilities")
	}
	if c.HostMounts.Allow.Set || c.HostPathVolumes.Allow.Set ||
		(c.HostMounts.Mode.Set && c.HostMounts.Mode.Value != Enforce) || (c.HostPathVolumes.Mode.Set && c.HostPathVolumes.Mode.Value != Enforce) {
		g = append(g, "host paths")
	}
	if loosened(c.Privileged.Mode) {
		g = append(g, "privileged")
	}
	// The rest reach the node less directly, but each one has been a
	// route out when combined with the others. runAsRoot.rootGroup is not
	// among them: group 0 reaches the node's files only through host
	// paths, which are named above.
	for _, other := range []struct {
		what  string
		given bool
	}{
		{"host namespaces", loosened(c.HostNamespaces.Mode) || c.HostNamespaces.Deny.Set},
		{"seccomp", loosened(c.Seccomp.Mode) || c.Seccomp.Unconfined.Set || c.Seccomp.Localhost.Set || c.Seccomp.AllowProfiles.Set},
		{"new privileges", loosened(c.NoNewPrivileges.Mode)},
		{"unmasked /proc and /sys paths", loosened(c.MaskedPaths.Mode)},
		{"devices", loosened(c.Devices.Mode) || c.Devices.Allow.Set},
		{"mount types", loosened(c.MountTypes.Mode) || c.MountTypes.Allow.Set},
		{"security labels", loosened(c.LSM.Mode) || c.LSM.SELinuxTypes.Set || c.LSM.SELinuxUsers.Set || c.LSM.SELinuxRoles.Set},
		{"other runtimes", loosened(c.RuntimeHandlers.Mode)},
		{"other plugins' changes", loosened(c.Plugins.Mode) || c.Plugins.Allow.Set || c.Plugins.AllowHooksFrom.Set || c.Plugins.HookPaths.Set},
	} {
		if other.given {
			g = append(g, other.what)
		}
	}
	return strings.Join(g, ", ")
}

// loosened: an exception sets a control's mode to something short of
// enforce.
func loosened(m Setting[Mode]) bool { return m.Set && m.Value != Enforce }

// pinsProgram: the exception names what runs, by command line or by an
// image digest, not only where it runs and what it is called.
func (m *Match) pinsProgram() bool {
	if len(m.Args) > 0 {
		return true
	}
	if len(m.Images) == 0 {
		return false
	}
	for _, p := range m.Images {
		c, err := compileImagePattern(string(p))
		if err != nil || c.digest == "" || hasWildcard(c.digest) {
			return false
		}
	}
	return true
}

// Kubernetes' names: a namespace and a container are DNS labels, a pod a
// DNS subdomain. A selector no such name fits selects nothing.
var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
)

// unmatchable names the exact selectors of an exception that no
// Kubernetes object can have (an upper-case or underscored namespace, a
// pod name with a slash): a typo that leaves the exception unused.
func unmatchable(where string, m Match) []string {
	var out []string
	check := func(field, kind string, globs []Glob, name *regexp.Regexp) {
		for _, g := range globs {
			if s := string(g); !hasWildcard(s) && !name.MatchString(s) {
				out = append(out, fmt.Sprintf("%s match.%s %q is no %s's name (lower case letters, digits and '-'), so it selects nothing", where, field, s, kind))
			}
		}
	}
	check("namespaces", "namespace", m.Namespaces, dnsLabel)
	check("pods", "pod", m.Pods, dnsSubdomain)
	check("containers", "container", m.Containers, dnsLabel)
	return out
}
