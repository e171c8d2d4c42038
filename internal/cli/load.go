package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/profiles"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Documented default locations (README, "Files").
const (
	DefaultPolicy    = "/etc/nri-guard/policy.yaml"
	DefaultPolicyDir = "/etc/nri-guard/policy.d"
	DefaultDecisions = "/var/log/nri-guard/decisions.jsonl"
	DefaultLogFile   = "/var/log/nri-guard/nri-guard.log"
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
func (p *policyFlags) load() (*policy.Policy, *controls.Env, error) {
	dir := p.dir
	if dir == DefaultPolicyDir {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			dir = ""
		}
	}
	pol, err := policy.Load(p.file, dir)
	if err != nil {
		return nil, nil, err
	}
	env, err := loadProfiles(pol)
	if err != nil {
		return nil, nil, err
	}
	return pol, env, nil
}

// loadProfiles loads the built-in default and every profile a setting
// names, once, at start: a broken profile stops start-up instead of
// failing containers one by one.
func loadProfiles(pol *policy.Policy) (*controls.Env, error) {
	def, err := profiles.DefaultSeccomp()
	if err != nil {
		return nil, fmt.Errorf("built-in seccomp profile: %w", err)
	}
	// The offline check answers for a full-spec caller; the NRI plugin
	// narrows these to what its runtime can do at Configure.
	env := &controls.Env{Seccomp: map[policy.HostPath]*specs.LinuxSeccomp{"": def}, SeccompErrnoRet: true}
	settings := []policy.Setting[policy.HostPath]{pol.Controls.Seccomp.Profile}
	for _, e := range pol.Exceptions {
		settings = append(settings, e.Effective.Seccomp.Profile)
	}
	for _, s := range settings {
		if _, done := env.Seccomp[s.Value]; done {
			continue
		}
		prof, err := profiles.LoadSeccomp(string(s.Value))
		if err != nil {
			return nil, fmt.Errorf("seccomp.profile (%s): %w", s.Source, err)
		}
		env.Seccomp[s.Value] = prof
	}
	return env, nil
}
