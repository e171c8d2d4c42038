package policy

import (
	"fmt"
	"strings"
)

// LocalhostMode is what enforce does with a container that runs under a
// seccomp profile from the node (Localhost) or a filter of unknown origin.
type LocalhostMode string

const (
	LocalhostAllow  LocalhostMode = "allow"
	LocalhostRefuse LocalhostMode = "refuse"
	// LocalhostConfining allows such a filter only when it refuses the
	// minimum set of escape-critical calls (internal/profiles.Minimum) or
	// its digest is in seccomp.allowProfiles.
	LocalhostConfining LocalhostMode = "confining"
)

func (LocalhostMode) allowed() []string { return []string{"allow", "refuse", "confining"} }

// ProfileDigest names a seccomp filter by content: "sha256:" and 64
// lower-case hex digits, as `nri-guard seccomp digest FILE` prints it.
type ProfileDigest string

func (ProfileDigest) check(s string) error {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("want sha256: and 64 lower-case hex digits (nri-guard seccomp digest FILE prints it), got %q", s)
	}
	return nil
}
