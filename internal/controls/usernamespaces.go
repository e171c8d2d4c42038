package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// UserNamespaces makes a user namespace the node's rule: a process that
// escapes as uid 0 then lands as an unprivileged node uid instead of root.
// "require" refuses a pod in the node's user namespace (Kubernetes asks
// for one with hostUsers: false); NRI shows a container's user namespace,
// so the plugin judges containers and the wrapper the sandbox, which NRI
// never shows. "enable" gives the pod one; only the runtime wrapper can,
// because NRI cannot set id mappings.
type UserNamespaces struct{}

func (UserNamespaces) Meta() Meta {
	return Meta{
		ID: "user-namespaces", Key: "userNamespaces",
		Reads: "`linux.namespaces.user` and its mappings",
		Does:  "`want: require` refuses pods in the node's user namespace, with the hint `hostUsers: false` (the plugin judges containers, the wrapper the pod sandbox); `want: enable` gives such a pod a user namespace of its own (wrapper; see below)",
	}
}

func (UserNamespaces) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	un := &s.UserNamespaces
	if !c.InHostNamespace("user") {
		return untrustedNamespace(c, s)
	}
	switch un.Want.Value {
	case policy.UserNSRequire:
		return []Finding{{
			Control: "user-namespaces", Field: "linux.namespaces.user", Value: namespaceValue(c, "user"),
			Problem: "runs in the node's user namespace, where uid 0 is root on the node",
			Rule:    "userNamespaces.want", Source: un.Want.Source, Verdict: Refuse,
			Fix: "set hostUsers: false in the pod spec, or add an exception for this pod that sets userNamespaces.mode: off",
		}}
	case policy.UserNSEnable:
		if c.Process == nil {
			return nil // NRI cannot set id mappings; the wrapper gives the namespace
		}
		return []Finding{userNamespaceFinding(c, "user-namespaces", "runs in the node's user namespace, where uid 0 is root on the node",
			"userNamespaces.want", un.Want.Source, "userNamespaces.mode: off")}
	}
	return nil
}

// userNamespaceFinding moves the container into the pod's user namespace,
// or refuses when the pod shares a namespace of the node that a user
// namespace cannot own (its network devices, processes or IPC objects
// belong to the node).
func userNamespaceFinding(c *view.Container, control, problem, rule string, source policy.Source, offSetting string) Finding {
	f := Finding{Control: control, Field: "linux.namespaces.user", Value: namespaceValue(c, "user"),
		Problem: problem, Rule: rule, Source: source}
	for _, t := range []string{"network", "pid", "ipc"} {
		if c.InHostNamespace(t) {
			f.Problem += ", and it shares the node's " + t + " namespace, so it cannot be given a user namespace"
			f.Verdict = Refuse
			f.Fix = "run the pod without host namespaces, or add an exception for this pod that sets " + offSetting
			return f
		}
	}
	f.Problem += " (moved into a user namespace of the pod's own)"
	f.Verdict, f.Rewrite = Rewrite, &view.Rewrite{Kind: view.SetUserNamespace}
	return f
}

// untrustedNamespace refuses, under either want, a user namespace that
// maps the node's privileged ids: it is no better than the node's own.
// NRI shows no id mappings (Process is nil there); the wrapper judges.
func untrustedNamespace(c *view.Container, s *policy.Controls) []Finding {
	problem := untrustedUserNamespace(c, s)
	if problem == "" {
		return nil
	}
	return []Finding{{
		Control: "user-namespaces", Field: "linux.namespaces.user", Value: userNamespaceValue(c),
		Problem: "its user namespace does not keep container root off the node's root: " + problem,
		Rule:    "userNamespaces.minHostID", Source: s.UserNamespaces.MinHostID.Source, Verdict: Refuse,
		Fix: "map the pod's ids to host ids from userNamespaces.minHostID up (hostUsers: false lets kubelet pick them), " +
			"or add an exception for this pod that sets userNamespaces.mode: off",
	}}
}
