package install

import (
	"path/filepath"

	"github.com/nri-guard/nri-guard/internal/layout"
)

// Node paths: where the files are as K3s, containerd and nri-guard see
// them on the node. With --root they are written below that directory,
// but their contents keep naming the node paths.
// The files the plugin and the wrapper share are layout.K3s(); the rest
// are the installer's own.
var (
	k3sDataDir = layout.K3sDataDir
	// guardDir holds everything nri-guard needs on a K3s node.
	guardDir      = layout.K3sGuardDir
	guardBin      = guardDir + "/bin/nri-guard"
	wrapperBin    = guardDir + "/bin/nri-guard-runc"
	pluginDir     = guardDir + "/plugins"
	pluginBin     = pluginDir + "/10-nri-guard"
	pluginConfDir = guardDir + "/conf.d"
	pluginConf    = pluginConfDir + "/10-nri-guard.conf"
	policyFile    = layout.K3s().Policy
	policyDropIns = layout.K3s().PolicyDir
	recordKey     = layout.K3s().RecordKey
	lastGood      = layout.K3s().LastGood
	// userNSPool is the wrapper's user namespace id pool (runtime state).
	userNSPool     = layout.K3s().UserNamespacePool
	importedConfig = guardDir + "/containerd.toml"
	manifestFile   = guardDir + "/install/manifest.json"
	backupDir      = guardDir + "/install/backup"

	runtimeConfig = layout.K3s().RuntimeConfig
	decisionLog   = layout.K3s().DecisionLog
	guardLog      = layout.K3s().LogFile
	statusFile    = layout.K3s().Status

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
