package install

import (
	"path/filepath"

	"github.com/nri-guard/nri-guard/internal/reload"
)

// Node paths: where the files are as K3s, containerd and nri-guard see
// them on the node. With --root they are written below that directory,
// but their contents keep naming the node paths.
const (
	k3sDataDir = "/var/lib/rancher/k3s"
	// guardDir holds everything nri-guard needs on a K3s node: K3s's data
	// directory is writable on every K3s node, also on image-based systems
	// with a read-only /usr or /opt.
	guardDir      = k3sDataDir + "/nri-guard"
	guardBin      = guardDir + "/bin/nri-guard"
	wrapperBin    = guardDir + "/bin/nri-guard-runc"
	pluginDir     = guardDir + "/plugins"
	pluginBin     = pluginDir + "/10-nri-guard"
	pluginConfDir = guardDir + "/conf.d"
	pluginConf    = pluginConfDir + "/10-nri-guard.conf"
	policyFile    = guardDir + "/policy.yaml"
	policyDropIns = guardDir + "/policy.d"
	recordKey     = guardDir + "/record.key"
	lastGood      = guardDir + "/last-good"
	// userNSPool is the wrapper's user namespace id pool (runtime state).
	userNSPool     = guardDir + "/userns/pool.json"
	importedConfig = guardDir + "/containerd.toml"
	manifestFile   = guardDir + "/install/manifest.json"
	backupDir      = guardDir + "/install/backup"

	// The wrapper is started by containerd's shim with no arguments; it
	// finds its configuration at its built-in default path.
	runtimeConfig = "/etc/nri-guard/runtime.yaml"
	decisionLog   = "/var/log/nri-guard/decisions.jsonl"
	guardLog      = "/var/log/nri-guard/nri-guard.log"
	// statusFile is where the plugin reports the policy it runs with.
	statusFile = reload.DefaultStatusPath

	// K3s's own files.
	containerdConfigDir = k3sDataDir + "/agent/etc/containerd"
	renderedConfig      = containerdConfigDir + "/config.toml"
	userTemplate        = containerdConfigDir + "/config-v3.toml.tmpl"
	dropInDir           = containerdConfigDir + "/config-v3.toml.d"
	dropInFile          = dropInDir + "/99-nri-guard.toml"
	containerdLog       = k3sDataDir + "/agent/containerd/containerd.log"
	bundledRunc         = k3sDataDir + "/data/current/bin/runc"
	// containerd's default NRI plugin directory: the installer points
	// containerd elsewhere, so plugins found here would stop starting.
	defaultNRIPluginDir = "/opt/nri/plugins"
)

// runtimeState is what nri-guard creates while it runs, in its own
// directories; uninstall removes it with the installed files, except a
// user namespace pool that still holds ranges (keepPool).
var runtimeState = []string{recordKey, lastGood, lastGood + ".new", lastGood + ".old", filepath.Dir(statusFile), filepath.Dir(userNSPool)}

// onNode maps a node path below root.
func onNode(root, nodePath string) string {
	return filepath.Join(root, nodePath)
}
