// Package loader reads the node policy and every seccomp profile it
// names, once, for each caller of the engine (the NRI plugin, the runtime
// wrapper, the offline check): a broken profile stops start-up instead of
// failing containers one by one.
package loader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/profiles"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Load reads the policy (dir may be "" for none) and its profiles. The
// returned Env allows everything a full-spec caller can do; callers with
// less (NRI) narrow it.
func Load(file, dir string) (*policy.Policy, controls.Profiles, error) {
	return LoadWith(nil, file, dir)
}

// LoadWith is Load with presets under the files (file may then be "").
func LoadWith(presets []policy.PresetName, file, dir string) (*policy.Policy, controls.Profiles, error) {
	pol, err := policy.LoadWith(presets, file, dir)
	if err != nil {
		return nil, nil, err
	}
	env, err := Profiles(pol)
	if err != nil {
		return nil, nil, err
	}
	return pol, env, nil
}

// ExistingDir returns dir, or "" when it does not exist: for default
// drop-in directories, which a node may not have.
func ExistingDir(dir string) string {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return dir
}

// Profiles loads the built-in default and every profile a setting names.
func Profiles(pol *policy.Policy) (controls.Profiles, error) {
	def, err := profiles.DefaultSeccomp()
	if err != nil {
		return nil, fmt.Errorf("built-in seccomp profile: %w", err)
	}
	env := controls.Profiles(map[policy.HostPath]*specs.LinuxSeccomp{"": def})
	settings := []policy.Setting[policy.HostPath]{pol.Controls.Seccomp.Profile}
	for _, e := range pol.Exceptions {
		settings = append(settings, e.Effective.Seccomp.Profile)
	}
	for _, s := range settings {
		if _, done := env[s.Value]; done {
			continue
		}
		prof, err := profiles.LoadSeccomp(string(s.Value))
		if err != nil {
			return nil, fmt.Errorf("seccomp.profile (%s): %w", s.Source, err)
		}
		env[s.Value] = prof
	}
	return env, nil
}
