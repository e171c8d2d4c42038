package controls

import (
	"slices"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// RunAsRoot acts on a process that runs as uid 0 in the node's user
// namespace, where an escape lands as root on the node: it refuses the
// container, or remaps it into a user namespace where uid 0 is an
// unprivileged node uid. Inside a user namespace of its own, uid 0
// passes. Off by default (most images run as root); the restricted
// preset turns it on. With rootGroup: refuse, gid 0 and a supplementary
// group 0 count as root too: a root-group process opens the node's
// root:root 0660 files (containerd's socket) through any host path it
// reaches.
type RunAsRoot struct{}

func (RunAsRoot) Meta() Meta {
	return Meta{
		ID: "run-as-root", Key: "runAsRoot", Needs: CapFullSpec,
		Reads: "`process.user` (uid, gid, additional gids), user namespace and its mappings",
		Does:  "refuses uid 0 outside a trusted user namespace (below), or with `action: remap` runs the container in a user namespace with the pod's range from the pool; `rootGroup: refuse` (the restricted preset) counts gid 0 and a supplementary group 0 as root too (containerd gives an image whose USER is a bare uid group 0: set `runAsGroup`)",
	}
}

func (RunAsRoot) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	p := c.Process
	if p == nil || c.Sandbox {
		return nil
	}
	field, problem, rule, fix := rootIdentity(p, &s.RunAsRoot)
	if field == "" {
		return nil
	}
	if p.UserNamespace {
		if f := untrustedRoot(c, s, field, rule); f != nil {
			return []Finding{*f}
		}
		return nil
	}
	if s.RunAsRoot.Action.Value == policy.RootRemap {
		f := userNamespaceFinding(c, "run-as-root", problem, "runAsRoot.action", s.RunAsRoot.Action.Source, "runAsRoot.mode: off")
		f.Field, f.Value = field, "0"
		return []Finding{f}
	}
	source := s.RunAsRoot.Mode.Source
	if rule == "runAsRoot.rootGroup" {
		source = s.RunAsRoot.RootGroup.Source
	}
	return []Finding{{
		Control: "run-as-root", Field: field, Value: "0",
		Problem: problem,
		Rule:    rule, Source: source, Verdict: Refuse,
		Fix: fix,
	}}
}

// rootIdentity names the first root id of the process the settings
// count, or "" when there is none.
func rootIdentity(p *view.Process, s *policy.RunAsRoot) (field, problem, rule, fix string) {
	if p.UID == 0 {
		return "process.user.uid", "runs as root in the node's user namespace", "runAsRoot.mode",
			"set runAsNonRoot/runAsUser to a non-zero uid, or hostUsers: false, or add an exception for this pod that sets runAsRoot.mode: off"
	}
	if s.RootGroup.Value != policy.Refuse {
		return "", "", "", ""
	}
	const orElse = ", or hostUsers: false, or add an exception for this pod that sets runAsRoot.rootGroup: allow"
	if p.GID == 0 {
		return "process.user.gid", "runs with the root group in the node's user namespace", "runAsRoot.rootGroup",
			"set runAsGroup to a non-zero gid (containerd gives an image whose USER is a bare uid group 0)" + orElse
	}
	if slices.Contains(p.AdditionalGids, 0) {
		return "process.user.additionalGids", "has the root group as a supplementary group in the node's user namespace", "runAsRoot.rootGroup",
			"take 0 out of supplementalGroups and fsGroup (and the image's /etc/group entry of its user)" + orElse
	}
	return "", "", "", ""
}

// untrustedRoot refuses uid 0 in a user namespace that maps it onto the
// node's privileged ids (a CRI client's userns_options can map container
// root to host root): it is root on the node all the same. Remapping
// would only join the same namespace again, so both actions refuse.
// The same holds for the root group where runAsRoot.rootGroup counts it.
func untrustedRoot(c *view.Container, s *policy.Controls, field, rule string) *Finding {
	problem := userNamespaceProblem(c.Process, s)
	if problem == "" {
		return nil
	}
	source, who := s.RunAsRoot.Mode.Source, "runs as root"
	if rule == "runAsRoot.rootGroup" {
		source, who = s.RunAsRoot.RootGroup.Source, "runs with the root group"
	}
	return &Finding{
		Control: "run-as-root", Field: field, Value: "0",
		Problem: who + " in a user namespace that does not keep it off the node's root: " + problem,
		Rule:    rule, Source: source, Verdict: Refuse,
		Fix: "map the pod's ids to host ids from userNamespaces.minHostID up (hostUsers: false lets kubelet pick them), " +
			"or run as a non-zero uid, or add an exception for this pod that sets runAsRoot.mode: off",
	}
}
