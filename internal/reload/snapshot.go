package reload

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nri-guard/nri-guard/internal/policy"
)

// Snapshot copies the files of a policy that loaded into dir
// (dir/policy.yaml and dir/policy.d/), replacing the previous snapshot
// whole. The runtime wrapper, which reads the policy at every create,
// falls back to it when the live files do not load, so one broken
// drop-in cannot stop every container on the node.
func Snapshot(pol *policy.Policy, dir string) error {
	tmp := dir + ".new"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "policy.d"), 0o700); err != nil {
		return err
	}
	for i, f := range pol.Files {
		dst := filepath.Join(tmp, "policy.yaml")
		if i > 0 {
			dst = filepath.Join(tmp, "policy.d", filepath.Base(f))
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("snapshot of the last good policy: %w", err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			return err
		}
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}
