package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withHooks(hs ...view.Hook) *view.Container {
	return ctr(func(c *view.Container) { c.Hooks = hs })
}

func withAdjustments(as ...view.Adjustment) *view.Container {
	return ctr(func(c *view.Container) { c.Adjustments = as })
}

func TestPluginHooks(t *testing.T) {
	gpu := "hookPaths: [/usr/bin/gpu-hook]\n"
	runTable(t, Plugins{}, []testCase{
		{name: "no hooks pass", c: withHooks()},
		{name: "a spec hook the policy does not list refused (CDI, base spec)", c: withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/nvidia-hook"}),
			want: []string{"plugins: hooks.prestart = /usr/bin/nvidia-hook: OCI hook not listed by the policy would run as root on the node, by rule plugins.hookPaths (built-in default); if the node needs this hook (with whatever arguments its adder chose), add /usr/bin/nvidia-hook to plugins.hookPaths"}},
		{name: "a listed spec hook passes", policy: "plugins:\n  " + gpu, c: withHooks(view.Hook{Stage: "createRuntime", Path: "/usr/bin/gpu-hook"})},
		// runc runs a hook's path as it is, from the bundle or the
		// container's root filesystem: only the listed file, spelled as
		// listed, may run.
		{name: "a listed path spelled with dots refused", policy: "plugins:\n  " + gpu, c: withHooks(view.Hook{Stage: "createRuntime", Path: "/usr/bin/../bin/gpu-hook"}),
			want: []string{"plugins: hooks.createRuntime = /usr/bin/../bin/gpu-hook: OCI hook path is not absolute and clean"}},
		{name: "a relative path to a listed file refused (createContainer runs in the image's root)", policy: "plugins:\n  " + gpu, c: withHooks(view.Hook{Stage: "createContainer", Path: "usr/bin/gpu-hook"}),
			want: []string{"hooks.createContainer = usr/bin/gpu-hook: OCI hook path is not absolute and clean"}},
		{name: "a path through the image's symlinks refused", policy: "plugins:\n  " + gpu, c: withHooks(view.Hook{Stage: "prestart", Path: "rootfs/l/../../usr/bin/gpu-hook"}),
			want: []string{"OCI hook path is not absolute and clean"}},
		{name: "hook from another plugin refused twice: untrusted and unlisted", c: withHooks(view.Hook{Stage: "createRuntime", Path: "/tmp/x", AddedBy: "20-evil"}),
			want: []string{
				"plugins: hooks.createRuntime = /tmp/x: OCI hook added by another plugin would run as root on the node (set by NRI plugin 20-evil), by rule plugins.allow (built-in default); to trust the plugin for it, add {plugin: 20-evil, fields: [hooks]} to plugins.allow",
				"plugins.hookPaths"}},
		{name: "listed hook from an untrusted plugin refused", policy: "plugins:\n  " + gpu, c: withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/gpu-hook", AddedBy: "20-evil"}),
			want: []string{"(set by NRI plugin 20-evil), by rule plugins.allow"}},
		{name: "trusted plugin with a listed hook passes", policy: "plugins:\n  allow: [{plugin: 20-gpu, fields: [hooks]}]\n  " + gpu,
			c: withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/gpu-hook", AddedBy: "20-gpu"})},
		{name: "allowHooksFrom still trusts (path listed)", policy: "plugins:\n  allowHooksFrom: [20-gpu]\n  " + gpu,
			c: withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/gpu-hook", AddedBy: "20-gpu"})},
		{name: "trusted plugin with an unlisted hook refused", policy: "plugins:\n  allowHooksFrom: [20-gpu]\n",
			c:    withHooks(view.Hook{Stage: "prestart", Path: "/bin/sh", AddedBy: "20-gpu"}),
			want: []string{"plugins.hookPaths"}},
		{name: "hooks of two plugins: each must be trusted", policy: "plugins:\n  allow: [{plugin: 20-gpu, fields: [hooks]}]\n  " + gpu,
			c:    withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/gpu-hook", AddedBy: "20-gpu,30-evil"}),
			want: []string{"(set by NRI plugin 30-evil)"}},
		{name: "trust for env is no trust for hooks", policy: "plugins:\n  allow: [{plugin: 20-gpu, fields: [env]}]\n  " + gpu,
			c:    withHooks(view.Hook{Stage: "prestart", Path: "/usr/bin/gpu-hook", AddedBy: "20-gpu"}),
			want: []string{"add {plugin: 20-gpu, fields: [hooks]} to plugins.allow"}},
	})
}

func TestPluginAdjustments(t *testing.T) {
	env := view.Adjustment{Kind: "env", Field: "env[HTTP_PROXY]", Value: "http://proxy:3128", By: "20-proxy"}
	cases := []testCase{
		{name: "nri-guard's own record annotation passes", c: withAdjustments(view.Adjustment{Kind: "annotations", Field: "annotations[nri-guard.io/decision]", Value: "v2...", By: "10-nri-guard", Forbidden: "identity"})},
		{name: "env of an untrusted plugin refused, naming plugin and field", c: withAdjustments(env),
			want: []string{"plugins: env[HTTP_PROXY] = http://proxy:3128: changed by another NRI plugin; nri-guard has no rule for env and the policy does not trust the plugin for it (set by NRI plugin 20-proxy), by rule plugins.allow (built-in default); to trust the plugin for it, add {plugin: 20-proxy, fields: [env]} to plugins.allow"}},
		{name: "env of a plugin trusted for env passes", policy: "plugins:\n  allow: [{plugin: 20-proxy, fields: [env]}]\n", c: withAdjustments(env)},
		{name: "trust names the plugin exactly", policy: "plugins:\n  allow: [{plugin: 20-prox, fields: [env]}]\n", c: withAdjustments(env),
			want: []string{"by rule plugins.allow (test.yaml:"}},
		{name: "identity annotation refused even from a plugin trusted for annotations", policy: "plugins:\n  allow: [{plugin: 20-evil, fields: [annotations]}]\n",
			c:    withAdjustments(view.Adjustment{Kind: "annotations", Field: "annotations[io.kubernetes.cri.container-type]", Value: "sandbox", By: "20-evil", Forbidden: "it says who the container is"}),
			want: []string{"plugins: annotations[io.kubernetes.cri.container-type] = sandbox: no NRI plugin may change this field: it says who the container is (set by NRI plugin 20-evil), by rule plugins (protected field) (built-in default); no setting allows it"}},
		{name: "a change NRI records no owner for cannot be trusted", c: withAdjustments(view.Adjustment{Kind: "resources", Field: "linux.resources.devices[allow=true a 0:0 rwm]", Value: "(set)"}),
			want: []string{"that NRI does not name"}},
		{name: "a plain annotation from a trusted plugin passes", policy: "plugins:\n  allow: [{plugin: 20-x, fields: [annotations, env]}]\n",
			c: withAdjustments(view.Adjustment{Kind: "annotations", Field: "annotations[example.com/x]", Value: "1", By: "20-x"})},
	}
	// Every kind a plugin can adjust without a rule of nri-guard's is
	// refused untrusted and passes trusted.
	for _, kind := range []string{"args", "rlimits", "cdiDevices", "namespaces", "netDevices", "resources", "cgroupsPath", "oomScoreAdj", "ioPriority", "scheduler", "rdt", "memoryPolicy"} {
		a := view.Adjustment{Kind: kind, Field: kind + "-field", Value: "v", By: "20-x"}
		cases = append(cases,
			testCase{name: kind + " untrusted", c: withAdjustments(a), want: []string{"add {plugin: 20-x, fields: [" + kind + "]} to plugins.allow"}},
			testCase{name: kind + " trusted", policy: "plugins:\n  allow: [{plugin: 20-x, fields: [" + kind + "]}]\n", c: withAdjustments(a)})
	}
	runTable(t, Plugins{}, cases)
}
