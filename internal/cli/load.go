package cli

import (
	"flag"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/policy"
)

// The flags' defaults: the node layout (README, "Files").
var (
	DefaultPolicy    = layout.Node().Policy
	DefaultPolicyDir = layout.Node().PolicyDir
	DefaultDecisions = layout.Node().DecisionLog
	DefaultLogFile   = layout.Node().LogFile
	DefaultRecordKey = layout.Node().RecordKey
	DefaultLastGood  = layout.Node().LastGood
)

// policyFlags are the flags every policy-reading subcommand takes.
type policyFlags struct {
	file string
	dir  string
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.file, "policy", DefaultPolicy, "base policy file")
	fs.StringVar(&p.dir, "policy-dir", DefaultPolicyDir, "drop-in directory merged over the base in lexical order (may be absent when left at its default)")
}

// load reads the policy and every seccomp profile it names. A drop-in
// directory left at its default may be missing; one named explicitly
// must exist, or a typo would silently drop the node's overrides.
func (p *policyFlags) load() (*policy.Policy, controls.Profiles, error) {
	dir := p.dir
	if dir == DefaultPolicyDir {
		dir = loader.ExistingDir(dir)
	}
	return loader.Load(p.file, dir)
}
