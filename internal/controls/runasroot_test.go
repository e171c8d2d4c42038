package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

// TestRunAsRootGroup: with rootGroup: refuse, gid 0 and a supplementary
// group 0 count as root; a non-root group passes, and by default (allow)
// only the uid counts.
func TestRunAsRootGroup(t *testing.T) {
	on := "runAsRoot:\n  mode: enforce\n"
	refuse := on + "  rootGroup: refuse\n"
	user := func(uid, gid uint32, extra ...uint32) *view.Container {
		return withProcess(func(p *view.Process) { p.UID, p.GID, p.AdditionalGids = uid, gid, extra })
	}
	runTable(t, RunAsRoot{}, []testCase{
		{name: "gid 0 refused", policy: refuse, c: user(1000, 0),
			want: []string{"run-as-root: process.user.gid = 0: runs with the root group in the node's user namespace, by rule runAsRoot.rootGroup (test.yaml:6); set runAsGroup to a non-zero gid"}},
		{name: "supplementary group 0 refused", policy: refuse, c: user(1000, 1000, 1000, 0),
			want: []string{"run-as-root: process.user.additionalGids = 0: has the root group as a supplementary group in the node's user namespace, by rule runAsRoot.rootGroup (test.yaml:6)"}},
		{name: "uid 0 is named first", policy: refuse, c: user(0, 0),
			want: []string{"process.user.uid = 0: runs as root in the node's user namespace, by rule runAsRoot.mode (test.yaml:5)"}},
		{name: "non-root group passes", policy: refuse, c: user(1000, 1000, 1000, 2000)},
		{name: "busybox as 1000 (gid 0) passes by default", policy: on, c: user(1000, 0, 0)},
		{name: "gid 0 in a user namespace passes", policy: refuse, c: withProcess(func(p *view.Process) {
			p.UID, p.UserNamespace, p.UIDMappings, p.GIDMappings = 1000, true, kubeletRange, kubeletRange
		})},
		{name: "gid 0 remapped", policy: refuse + "  action: remap\n", c: user(1000, 0),
			want:     []string{"process.user.gid = 0: runs with the root group in the node's user namespace (moved into a user namespace of the pod's own), by rule runAsRoot.action (test.yaml:7)"},
			verdicts: []Verdict{Rewrite}},
	})
}
