package controls

import (
	"path"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Plugins judges what other NRI plugins did, and every OCI hook. Their
// mounts, devices, sysctls, host namespaces and seccomp changes are judged
// by the other controls on the combined result (and named there); this
// control covers the rest of what a plugin can adjust: a change to a
// field kind nri-guard has no rule for passes only when plugins.allow
// trusts that plugin for that kind, and the identity annotations and the
// node's mount and user namespaces are out of every plugin's reach. Hooks
// run as root in the host's namespaces, so each one, whoever put it in
// the spec (a plugin, a CDI device, the runtime's base spec), must be
// listed in plugins.hookPaths; one a plugin added also needs that plugin
// trusted for hooks.
type Plugins struct{}

func (Plugins) Meta() Meta {
	return Meta{
		ID: "plugins", Key: "plugins", Needs: CapValidation,
		Reads: "the combined adjustment of all plugins; every hook in the final spec",
		Does:  "refuses what another NRI plugin changes in a field nri-guard has no rule for (env, args, rlimits, CDI devices, network devices, namespaces, resources, annotations, cgroups path, scheduling, ...) unless `allow` trusts that plugin for that kind; no plugin may change the identity annotations (`io.kubernetes.cri.*`, `io.containerd.*`, `nri-guard.io/*`) or put a container in the node's mount or user namespace; every OCI hook in the final spec must be listed in `hookPaths` by its absolute, clean path (runc runs a relative one from the bundle or the container's root), whoever put it there (checked in validation and by the wrapper, which sees CDI's hooks too)",
	}
}

func (Plugins) Check(c *view.Container, s *policy.Controls, env *Env) []Finding {
	p := &s.Plugins
	var out []Finding
	for _, h := range c.Hooks {
		out = append(out, hookFindings(h, p, env)...)
	}
	for _, a := range c.Adjustments {
		if f, bad := adjustmentFinding(a, p, env); bad {
			out = append(out, f)
		}
	}
	return out
}

// hookFindings judges one hook: its path must be listed, and a plugin
// that added it must be trusted for hooks. NRI names all plugins that
// added hooks to a container at once ("a,b"), so each must be trusted.
func hookFindings(h view.Hook, p *policy.Plugins, env *Env) []Finding {
	var out []Finding
	field := "hooks." + h.Stage
	for _, by := range otherPlugins(h.AddedBy, env) {
		if p.TrustsPlugin(by, "hooks") {
			continue
		}
		out = append(out, Finding{
			Control: "plugins", Field: field, Value: h.Path,
			Problem: "OCI hook added by another plugin would run as root on the node",
			By:      by,
			Rule:    "plugins.allow", Source: p.Allow.Source,
			Verdict: Refuse,
			Fix:     trustFix(by, "hooks"),
		})
	}
	if h.Path != path.Clean(h.Path) || !path.IsAbs(h.Path) {
		// runc runs the path as it is: a relative one from the bundle
		// (createRuntime, prestart) or from the container's root
		// filesystem (createContainer), where ".." can walk through the
		// image's own symlinks. Only the listed file may run.
		out = append(out, Finding{
			Control: "plugins", Field: field, Value: h.Path,
			Problem: "OCI hook path is not absolute and clean: runc would run it relative to the bundle or the container's root filesystem, not the listed file on the node",
			By:      strings.Join(otherPlugins(h.AddedBy, env), ","),
			Rule:    "plugins.hookPaths", Source: p.HookPaths.Source,
			Verdict: Refuse,
			Fix:     "no setting allows it: give the hook its absolute path, without . or .. parts",
			Final:   "a hook must name its file on the node by an absolute, clean path",
		})
		return out
	}
	if !slices.Contains(p.HookPaths.Value, policy.HostPath(policy.CleanHostPath(h.Path))) {
		out = append(out, Finding{
			Control: "plugins", Field: field, Value: h.Path,
			Problem: "OCI hook not listed by the policy would run as root on the node",
			By:      strings.Join(otherPlugins(h.AddedBy, env), ","),
			Rule:    "plugins.hookPaths", Source: p.HookPaths.Source,
			Verdict: Refuse,
			Fix:     "if the node needs this hook (with whatever arguments its adder chose), add " + h.Path + " to plugins.hookPaths",
		})
	}
	return out
}

// adjustmentFinding judges one change to a field no other control
// judges. nri-guard's own changes (its decision record) are its own.
func adjustmentFinding(a view.Adjustment, p *policy.Plugins, env *Env) (Finding, bool) {
	if a.By != "" && a.By == env.Self {
		return Finding{}, false
	}
	f := Finding{
		Control: "plugins", Field: a.Field, Value: shorten(a.Value), By: a.By,
		Rule: "plugins.allow", Source: p.Allow.Source, Verdict: Refuse,
	}
	switch {
	case a.Forbidden != "":
		f.Problem = "no NRI plugin may change this field: " + a.Forbidden
		f.Rule, f.Source = "plugins (protected field)", policy.BuiltIn
		f.Fix = "no setting allows it: change the plugin"
	case a.By == "":
		f.Problem = "changed by an NRI plugin that NRI does not name (it records no owner for this change), so no policy can trust it"
		f.Fix = "change the plugin that makes it"
	case p.TrustsPlugin(a.By, policy.PluginField(a.Kind)):
		return Finding{}, false
	default:
		f.Problem = "changed by another NRI plugin; nri-guard has no rule for " + a.Kind + " and the policy does not trust the plugin for it"
		f.Fix = trustFix(a.By, a.Kind)
	}
	return f, true
}

// otherPlugins splits NRI's owner list and leaves out nri-guard itself.
func otherPlugins(owners string, env *Env) []string {
	var out []string
	for _, by := range strings.Split(owners, ",") {
		if by = strings.TrimSpace(by); by != "" && by != env.Self {
			out = append(out, by)
		}
	}
	return out
}

func trustFix(plugin, kind string) string {
	return "to trust the plugin for it, add {plugin: " + plugin + ", fields: [" + kind + "]} to plugins.allow"
}

// shorten keeps refusals readable when a plugin sets long values.
func shorten(s string) string {
	const max = 160
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
