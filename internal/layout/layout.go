// Package layout says where nri-guard's files are on a node, once: the
// plugin's flags, the wrapper's configuration defaults and the K3s
// installer all start from these values. Node is the plain layout a node
// admin gets without the installer (README, "Files"); K3s is what
// `nri-guard install k3s` lays out below K3s's data directory, which is
// writable on every K3s node, also on image-based systems with a
// read-only /usr or /opt.
package layout

// Files are the paths the plugin and the wrapper read and write.
type Files struct {
	Policy    string // base policy file
	PolicyDir string // drop-ins merged over it in lexical order
	// DecisionLog is the JSON-lines log of every decision (plugin and
	// wrapper write it).
	DecisionLog string
	LogFile     string // the plugin's own log, when containerd starts it
	// RecordKey signs the decision records the wrapper verifies.
	RecordKey string
	// LastGood keeps a copy of the last policy that loaded.
	LastGood string
	// RuntimeConfig is the wrapper's configuration. containerd's shim
	// starts the wrapper with no arguments, so it is always here (or
	// where NRI_GUARD_RUNTIME_CONFIG says).
	RuntimeConfig string
	// Status is where the plugin reports the policy it runs with;
	// StatusSocket where it answers `nri-guard status` live.
	Status, StatusSocket string
	// Judged holds a mark for every container the wrapper judged.
	Judged string
	// Pins holds the bind sources the wrapper pinned, per container.
	Pins string
	// Tallies holds the wrapper's event counts for the plugin's metrics.
	Tallies string
	// UserNamespacePool is the wrapper's pool of host id ranges.
	UserNamespacePool string
	// IDMapAnswers keeps, for this boot, which file systems the kernel
	// can idmap (internal/userns's prober).
	IDMapAnswers string
}

// Shared by both layouts: the wrapper finds its configuration at one
// path, and logs and runtime state go where a node keeps such things.
const (
	runtimeConfig = "/etc/nri-guard/runtime.yaml"
	decisionLog   = "/var/log/nri-guard/decisions.jsonl"
	logFile       = "/var/log/nri-guard/nri-guard.log"
	status        = "/run/nri-guard/status.json"
	statusSocket  = "/run/nri-guard/status.sock"
	judged        = "/run/nri-guard/judged"
	pins          = "/run/nri-guard/pins"
	tallies       = "/run/nri-guard/tallies"
	idmapAnswers  = "/run/nri-guard/idmap"
)

// Node is the layout without the installer.
func Node() Files {
	return Files{
		Policy: "/etc/nri-guard/policy.yaml", PolicyDir: "/etc/nri-guard/policy.d",
		DecisionLog: decisionLog, LogFile: logFile,
		RecordKey: "/etc/nri-guard/record.key", LastGood: "/var/lib/nri-guard/last-good",
		RuntimeConfig: runtimeConfig, Status: status, StatusSocket: statusSocket, Judged: judged, Pins: pins, Tallies: tallies,
		UserNamespacePool: "/var/lib/nri-guard/userns/pool.json", IDMapAnswers: idmapAnswers,
	}
}

// K3sDataDir is K3s's data directory; K3sGuardDir is nri-guard's below it.
const (
	K3sDataDir  = "/var/lib/rancher/k3s"
	K3sGuardDir = K3sDataDir + "/nri-guard"
)

// K3s is the layout `nri-guard install k3s` writes.
func K3s() Files {
	return Files{
		Policy: K3sGuardDir + "/policy.yaml", PolicyDir: K3sGuardDir + "/policy.d",
		DecisionLog: decisionLog, LogFile: logFile,
		RecordKey: K3sGuardDir + "/record.key", LastGood: K3sGuardDir + "/last-good",
		RuntimeConfig: runtimeConfig, Status: status, StatusSocket: statusSocket, Judged: judged, Pins: pins, Tallies: tallies,
		UserNamespacePool: K3sGuardDir + "/userns/pool.json", IDMapAnswers: idmapAnswers,
	}
}
