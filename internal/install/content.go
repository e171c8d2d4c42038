package install

import (
	"fmt"
	"strings"
)

const writtenBy = "Written by `nri-guard install k3s`; removed by `nri-guard uninstall k3s`."

// containerdSettings is nri-guard's part of containerd's configuration.
// containerd merges an imported file key by key into the tables of the
// main one (install/README.md), so this adds BinaryName to the runc
// options K3s already defines instead of defining the table twice.
func containerdSettings(validator bool, wrapped []Runtime) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n# containerd merges this into K3s's generated config.toml.\nversion = 3\n\n", writtenBy)
	fmt.Fprintf(&b, "# nri-guard is a pre-registered NRI plugin: containerd starts it from plugin_path.\n")
	fmt.Fprintf(&b, "[plugins.'io.containerd.nri.v1.nri']\n  disable = false\n  plugin_path = '%s'\n  plugin_config_path = '%s'\n\n", pluginDir, pluginConfDir)
	if validator {
		// No tolerate_missing_plugins_annotation: any pod author could set it.
		fmt.Fprintf(&b, "# Refuse every container while nri-guard is not connected (containerd 2.2+).\n")
		fmt.Fprintf(&b, "[plugins.'io.containerd.nri.v1.nri'.default_validator]\n  enable = true\n  required_plugins = ['nri-guard']\n\n")
	}
	fmt.Fprintf(&b, "# The runtime wrapper judges the final OCI spec, then runs the real runc.\n")
	fmt.Fprintf(&b, "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  BinaryName = '%s'\n", wrapperBin)
	for _, r := range wrapped {
		// Each runtime's own wrapper: its name tells it which real binary
		// it stands for (runtime.yaml's handlers).
		fmt.Fprintf(&b, "\n# Runtime %s (%s): its wrapper runs %s.\n", r.Name, r.Type, r.BinaryName)
		fmt.Fprintf(&b, "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'%s'.options]\n  BinaryName = '%s'\n", r.Name, wrapperPath(r.Name))
	}
	return b.String()
}

// userTemplateText extends K3s's base template for K3s releases that do
// not import config-v3.toml.d drop-ins. The import has to come before the
// base: it is a top-level key, and the base opens tables.
func userTemplateText() string {
	return fmt.Sprintf("# %s\n# K3s's own containerd configuration (the base template) plus nri-guard's\n# settings, imported from %s.\nimports = ['%s']\n{{ template \"base\" . }}\n",
		writtenBy, importedConfig, importedConfig)
}

// pluginConfText is handed to the pre-registered plugin at Configure.
func pluginConfText() string {
	return fmt.Sprintf(`# %s
# containerd hands this to nri-guard when it starts it from %s.
policy: %s
policyDir: %s
decisionLog: %s
logFile: %s
recordKey: %s
lastGood: %s
statusFile: %s
`, writtenBy, pluginDir, policyFile, policyDropIns, decisionLog, guardLog, recordKey, lastGood, statusFile)
}

// runtimeConfigText configures the wrapper; it must read the policy the
// plugin reads and verify the records the plugin signs.
func runtimeConfigText(runc string, wrapped []Runtime) string {
	return fmt.Sprintf(`# %s
# The runtime wrapper (containerd's runc BinaryName on this K3s node).
runc: %s
policy: %s
policyDir: %s
decisionLog: %s
recordKey: %s
lastGood: %s
userNamespacePool: {state: %s}
`, writtenBy, runc, policyFile, policyDropIns, decisionLog, recordKey, lastGood, userNSPool) + handlersText(wrapped)
}

// handlersText maps each other wrapped runtime to its real binary; the
// wrapper learns which one it is from the name containerd runs it under.
func handlersText(wrapped []Runtime) string {
	if len(wrapped) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# K3s's other runc-compatible runtimes: containerd runs %s-NAME as NAME's BinaryName.\nhandlers:\n", wrapperBin)
	for _, r := range wrapped {
		fmt.Fprintf(&b, "  %s: %s\n", r.Name, r.BinaryName)
	}
	return b.String()
}

// policyText is the node policy the installer starts with: the built-in
// defaults, in audit mode while an admin reads the decision log first.
func policyText(mode string, n Node, guarded []string, registry string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# nri-guard node policy, written by `nri-guard install k3s --mode %s`.\n", mode)
	fmt.Fprintf(&b, "# Every setting not written here has its built-in default; `nri-guard policy show\n")
	fmt.Fprintf(&b, "# --policy %s --policy-dir %s` prints the effective policy.\n", policyFile, policyDropIns)
	fmt.Fprintf(&b, "# Per-node overrides go in %s/*.yaml. Changes take effect within seconds.\n", policyDropIns)
	fmt.Fprintf(&b, "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n")
	fmt.Fprintf(&b, "# K3s's own components (svclb, coredns, local-path) need a few narrow exceptions;\n")
	fmt.Fprintf(&b, "# add restricted in front for the Pod Security Standards' restricted level.\n")
	fmt.Fprintf(&b, "presets: [k3s-system]\n")
	fmt.Fprintf(&b, "controls:\n")
	fmt.Fprintf(&b, "  # The runtime handlers (RuntimeClasses) the installer gave a runtime wrapper: pods of\n")
	fmt.Fprintf(&b, "  # any other handler are refused (\"\" is a pod without a RuntimeClass).\n")
	for _, r := range n.Unwrapped() {
		fmt.Fprintf(&b, "  # Not wrapped: %s (%s) runs no OCI runtime binary; list it under isolated only if it\n  # isolates its pods by other means (a VM, a user-space kernel).\n", r.Name, r.Type)
	}
	quoted := make([]string, len(guarded))
	for i, h := range guarded {
		quoted[i] = fmt.Sprintf("%q", h)
	}
	fmt.Fprintf(&b, "  runtimeHandlers:\n    guarded: [%s]\n", strings.Join(quoted, ", "))
	b.WriteString(remapText(n, mode))
	b.WriteString(systemRegistriesText(registry))
	if mode == ModeAudit {
		fmt.Fprintf(&b, "# Audit: containers run unchanged and %s says what enforce\n", decisionLog)
		fmt.Fprintf(&b, "# would do. Switch with `nri-guard install k3s --mode enforce`.\ndefaultMode: audit\n")
	}
	return b.String()
}

// remapText turns user namespaces on for root containers, or says why
// not and how.
func remapText(n Node, mode string) string {
	if !n.Remap {
		return fmt.Sprintf("  # Root containers run as root on the node: user namespaces are off (%s).\n"+
			"  # To turn them on: runAsRoot: {mode: %s, action: remap} and userNamespaces: {mode: %s, want: enable}.\n", n.RemapWhy, mode, mode)
	}
	return fmt.Sprintf("  # Root in a container is not root on the node: every pod gets a user namespace of\n"+
		"  # its own, with ids from the pool. A pod with a volume the kernel cannot idmap (NFS,\n"+
		"  # FUSE) is refused, naming it; an exception with userNamespaces: {mode: off} and\n"+
		"  # runAsRoot: {mode: off} lets it run as root in the node's user namespace.\n"+
		"  # The installer's probe: %s.\n"+
		"  runAsRoot: {mode: %s, action: remap}\n  userNamespaces: {mode: %s, want: enable}\n", n.RemapWhy, mode, mode)
}
