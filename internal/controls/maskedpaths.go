package controls

import (
	"slices"
	"strconv"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// MaskedPaths puts back the /proc and /sys paths the runtime masks or
// makes read-only by default when a spec lacks them (procMount:
// Unmasked, or a client that sends none): they hide kernel memory, keys
// and knobs such as /proc/sysrq-trigger from the container.
type MaskedPaths struct{}

// Runtime defaults (containerd's, as in its generated specs).
var (
	DefaultMaskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/sys/devices/virtual/powercap", "/proc/scsi",
	}
	DefaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func (MaskedPaths) Meta() Meta {
	return Meta{
		ID: "masked-paths", Key: "maskedPaths", Needs: CapFullSpec,
		Reads: "`linux.maskedPaths`, `readonlyPaths`",
		Does:  "puts back the runtime's default masked and read-only `/proc` and `/sys` paths",
	}
}

func (MaskedPaths) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	p := c.Process
	if p == nil {
		return nil
	}
	masked := missing(DefaultMaskedPaths, p.MaskedPaths)
	readonly := missing(DefaultReadonlyPaths, p.ReadonlyPaths)
	if len(masked)+len(readonly) == 0 {
		return nil
	}
	return []Finding{{
		Control: "masked-paths", Field: "linux.maskedPaths", Value: missingText(masked, readonly),
		Problem: "the runtime's default masked or read-only paths are missing (they are put back)",
		Rule:    "maskedPaths.mode", Source: s.MaskedPaths.Mode.Source, Verdict: Rewrite,
		Rewrite: &view.Rewrite{Kind: view.AddMaskedPaths, Paths: masked, ReadonlyPaths: readonly},
		Fix:     "do not set procMount: Unmasked, or add an exception for this pod that sets maskedPaths.mode: off",
	}}
}

func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

func missingText(masked, readonly []string) string {
	n := len(masked) + len(readonly)
	first := append(append([]string{}, masked...), readonly...)[0]
	if n == 1 {
		return first + " missing"
	}
	return first + " and " + strconv.Itoa(n-1) + " more missing"
}
