package controls

import (
	"slices"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Plugins judges what other NRI plugins did. Their mounts, devices,
// namespaces and seccomp changes are judged by the other controls on the
// combined result (and named there); this control covers what only a
// plugin can add: OCI hooks, which run as root in the host's namespaces.
type Plugins struct{}

func (Plugins) Meta() Meta {
	return Meta{
		ID: "plugins", Key: "plugins", Since: policy.APIVersion,
		Description: "refuse OCI hooks injected by other NRI plugins",
		Reads:       []string{"hooks (with the plugin that added each)"},
		Needs:       CapValidation,
	}
}

func (Plugins) Check(c *view.Container, s *policy.Controls, env *Env) []Finding {
	p := &s.Plugins
	var out []Finding
	for _, h := range c.Hooks {
		if h.AddedBy == "" || h.AddedBy == env.Self || slices.Contains(p.AllowHooksFrom.Value, h.AddedBy) {
			continue
		}
		out = append(out, Finding{
			Control: "plugins", Field: "hooks." + h.Stage, Value: h.Path,
			Problem: "OCI hook added by another plugin would run as root on the node",
			By:      h.AddedBy,
			Rule:    "plugins.allowHooksFrom", Source: p.AllowHooksFrom.Source,
			Verdict: Refuse,
			Fix:     "trust the plugin with plugins.allowHooksFrom: [" + h.AddedBy + "]",
		})
	}
	return out
}
