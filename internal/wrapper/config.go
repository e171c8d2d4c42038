package wrapper

import (
	"bytes"
	"fmt"
	"os"

	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/idpool"
	"github.com/nri-guard/nri-guard/internal/layout"

	"gopkg.in/yaml.v3"
)

// DefaultConfigPath is where the wrapper finds its configuration; the
// environment variable ConfigEnv overrides it (containerd passes its own
// environment down through the shim).
var DefaultConfigPath = layout.Node().RuntimeConfig

// nodeFiles gives the defaults a configuration leaves out; the package's
// tests point it below their own directory, so that no test counts or
// marks on the node it runs on.
var nodeFiles = layout.Node

const ConfigEnv = "NRI_GUARD_RUNTIME_CONFIG"

// Config is the wrapper's configuration file.
type Config struct {
	// Runc is the real runc binary.
	Runc        string `yaml:"runc"`
	Policy      string `yaml:"policy"`
	PolicyDir   string `yaml:"policyDir"`
	DecisionLog string `yaml:"decisionLog"`
	// DecisionLogMaxBytes and DecisionLogKeep rotate the decision log, as
	// the plugin's settings of the same names do.
	DecisionLogMaxBytes int64  `yaml:"decisionLogMaxBytes"`
	DecisionLogKeep     int    `yaml:"decisionLogKeep"`
	RecordKey           string `yaml:"recordKey"`
	// LastGood is where the NRI plugin keeps a copy of the last policy
	// that loaded; used when the live files do not load.
	LastGood string `yaml:"lastGood"`
	// JudgedDir holds a mark for every container the wrapper judged, so
	// `nri-guard status` can name running containers no guard judged.
	JudgedDir string `yaml:"judgedDir"`
	// Tallies is where the wrapper counts its events for the plugin's
	// metrics endpoint (internal/tally).
	Tallies string `yaml:"tallies"`
	// UserNamespacePool is where pods given a user namespace get their
	// host ids (userNamespaces want: enable, runAsRoot action: remap).
	UserNamespacePool idpool.Config `yaml:"userNamespacePool"`
	// IDMapAnswers keeps which file systems the kernel can idmap, for
	// this boot (a tmpfs), so most creates ask the kernel nothing.
	IDMapAnswers string `yaml:"idmapAnswers"`
	// Handlers maps every other runtime handler the wrapper stands in for
	// to that handler's real binary (handlers.go).
	Handlers Handlers `yaml:"handlers"`
	// AllowRestore lets `runc restore` start containers from CRIU
	// checkpoints (restore.go); off, every restore is refused.
	AllowRestore bool `yaml:"allowRestore"`
	// Handler is the runtime handler this run serves, learnt from the
	// name containerd started the wrapper under; never read from the file.
	Handler string `yaml:"-"`
}

func loadConfig() (Config, string, error) {
	path := DefaultConfigPath
	if p := os.Getenv(ConfigEnv); p != "" {
		path = p
	}
	node := nodeFiles()
	cfg := Config{
		Policy: node.Policy, PolicyDir: node.PolicyDir, DecisionLog: node.DecisionLog, RecordKey: node.RecordKey,
		LastGood: node.LastGood, JudgedDir: node.Judged, Tallies: node.Tallies, IDMapAnswers: node.IDMapAnswers,
		DecisionLogMaxBytes: decisionlog.DefaultMaxBytes, DecisionLogKeep: decisionlog.DefaultKeep, UserNamespacePool: idpool.DefaultConfig(),
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, path, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, path, configError(path, err)
	}
	if cfg.Runc == "" {
		return cfg, path, fmt.Errorf("%s: runc: the real runc binary must be named", path)
	}
	if err := cfg.UserNamespacePool.Validate(); err != nil {
		return cfg, path, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.selectHandler(invokedAs()); err != nil {
		return cfg, path, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, path, nil
}
