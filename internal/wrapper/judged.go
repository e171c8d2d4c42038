package wrapper

import (
	"slices"
	"time"

	"github.com/nri-guard/nri-guard/internal/judged"
	"github.com/nri-guard/nri-guard/internal/runcstate"
)

// markJudged records that the container about to be created was judged.
// The mark only feeds `nri-guard status`: failing to write it does not
// refuse the container (status then lists it as unjudged, the safe
// direction).
func markJudged(cfg Config, inv invocation) {
	if cfg.JudgedDir == "" {
		return
	}
	judged.Write(cfg.JudgedDir, inv.containerID(), judged.Mark{Root: runcRoot(inv), Action: inv.verb, At: time.Now().UTC()})
}

// unmarkJudged forgets a container runc is about to delete. A delete
// without --force only succeeds once the container stopped, and status
// skips stopped containers, so removing the mark first never makes a
// running container look unjudged.
func unmarkJudged(cfg Config, inv invocation) {
	if cfg.JudgedDir == "" {
		return
	}
	id := inv.containerID()
	forced := slices.Contains(inv.args[inv.verbAt+1:], "--force") || slices.Contains(inv.args[inv.verbAt+1:], "-f")
	if st, err := runcstate.Read(runcRoot(inv), id); forced || err != nil || !st.Running() {
		judged.Remove(cfg.JudgedDir, id)
	}
}
