package policy

import (
	"fmt"
	"slices"
	"strings"
)

// PluginTrust is one entry of plugins.allow: the NRI plugin, named as NRI
// names it (index-name, e.g. "20-gpu-device-plugin"), and the field kinds
// it may change.
type PluginTrust struct {
	Plugin PluginName    `yaml:"plugin"`
	Fields []PluginField `yaml:"fields"`
}

// Trusts reports whether the entry lets plugin change fields of kind.
func (t PluginTrust) Trusts(plugin string, kind PluginField) bool {
	return string(t.Plugin) == plugin && slices.Contains(t.Fields, kind)
}

// String is the entry as `policy show` writes it.
func (t PluginTrust) String() string {
	fields := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		fields[i] = string(f)
	}
	return fmt.Sprintf("{plugin: %s, fields: [%s]}", t.Plugin, strings.Join(fields, ", "))
}

// PluginName is an NRI plugin's index-name.
type PluginName string

func (PluginName) check(s string) error {
	if s == "" || strings.ContainsAny(s, ", ") {
		return fmt.Errorf("want an NRI plugin name as index-name (e.g. 20-gpu), got %q", s)
	}
	return nil
}

// PluginField is a kind of container field an NRI plugin can adjust and
// nri-guard has no rule for: such a change passes only when plugins.allow
// trusts the plugin for it. Mounts, devices, sysctls and seccomp are not
// here: their own controls judge them whoever set them.
type PluginField string

// PluginFields lists every kind, in NRI's ContainerAdjustment order.
var PluginFields = []string{
	"annotations", "env", "args", "hooks", "rlimits", "cdiDevices",
	"namespaces", "netDevices", "resources", "cgroupsPath", "oomScoreAdj",
	"ioPriority", "scheduler", "rdt", "memoryPolicy",
}

func (PluginField) allowed() []string { return PluginFields }

// TrustsPlugin reports whether plugins.allow (or, for hooks, the older
// allowHooksFrom) lets plugin change fields of kind.
func (p *Plugins) TrustsPlugin(plugin string, kind PluginField) bool {
	if kind == "hooks" && slices.Contains(p.AllowHooksFrom.Value, plugin) {
		return true
	}
	return slices.ContainsFunc(p.Allow.Value, func(t PluginTrust) bool { return t.Trusts(plugin, kind) })
}
