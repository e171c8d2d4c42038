package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withHooks(hs ...view.Hook) *view.Container {
	return ctr(func(c *view.Container) { c.Hooks = hs })
}

func TestPlugins(t *testing.T) {
	runTable(t, Plugins{}, []testCase{
		{name: "spec hooks from the runtime pass", c: withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/nvidia-hook"})},
		{name: "hook from another plugin refused", c: withHooks(view.Hook{Stage: "createRuntime", Path: "/tmp/x", AddedBy: "20-evil"}),
			want: []string{"plugins: hooks.createRuntime = /tmp/x: OCI hook added by another plugin would run as root on the node (set by NRI plugin 20-evil), by rule plugins.allowHooksFrom (built-in default); trust the plugin with plugins.allowHooksFrom: [20-evil]"}},
		{name: "trusted plugin passes", policy: "plugins:\n  allowHooksFrom: [20-gpu]\n", c: withHooks(view.Hook{Stage: "prestart", Path: "/x", AddedBy: "20-gpu"})},
	})
}
