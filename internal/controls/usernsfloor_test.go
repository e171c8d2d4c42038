package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// kubeletRange is what kubelet maps for a pod with hostUsers: false: its
// first block above the node's own ids.
var kubeletRange = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 65536, Size: 65536}}

// inUserNamespace is a root container in a user namespace of its own
// with the given mappings.
func inUserNamespace(uid, gid []specs.LinuxIDMapping) *view.Container {
	c := withProcess(func(p *view.Process) { p.UserNamespace, p.UIDMappings, p.GIDMappings = true, uid, gid })
	c.Namespaces = append(c.Namespaces, view.Namespace{Type: "user"})
	return c
}

func TestRunAsRootTrustsOnlyUserNamespacesAboveTheFloor(t *testing.T) {
	on := "runAsRoot:\n  mode: enforce\n"
	rootToRoot := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
	low := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 65536}}
	pool := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0x70000000, Size: 65536}}
	runTable(t, RunAsRoot{}, []testCase{
		{name: "kubelet's range passes", policy: on, c: inUserNamespace(kubeletRange, kubeletRange)},
		{name: "the wrapper's pool passes", policy: on, c: inUserNamespace(pool, pool)},
		{name: "the wrapper's own rewrite passes", policy: on, c: func() *view.Container {
			c := withProcess(nil)
			c.Apply(view.Rewrite{Kind: view.SetUserNamespace})
			return c
		}()},
		{name: "container root to host root", policy: on, c: inUserNamespace(rootToRoot, kubeletRange),
			want: []string{"run-as-root: process.user.uid = 0: runs as root in a user namespace that does not keep it off the node's root: " +
				"linux.uidMappings maps container id 0 to host id 0 (65536 ids), and host id 0 is the node's root, by rule runAsRoot.mode (test.yaml:5); map the pod's ids"}},
		{name: "gid 0 to host gid 0", policy: on, c: inUserNamespace(kubeletRange, rootToRoot),
			want: []string{"linux.gidMappings maps container id 0 to host id 0 (65536 ids), and host id 0 is the node's root"}},
		{name: "a second range that reaches host root", policy: on,
			c:    inUserNamespace(append([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 1000}}, specs.LinuxIDMapping{ContainerID: 1000, HostID: 0, Size: 1}), kubeletRange),
			want: []string{"maps container id 1000 to host id 0 (1 ids)"}},
		{name: "below the floor", policy: on, c: inUserNamespace(low, low),
			want: []string{"linux.uidMappings maps container id 0 to host id 1000 (65536 ids), below userNamespaces.minHostID (built-in default) 65536, where the node's own users are"}},
		{name: "a floor the policy lowers", policy: on + "userNamespaces:\n  minHostID: 1000\n", c: inUserNamespace(low, low)},
		{name: "a floor the policy raises", policy: on + "userNamespaces:\n  minHostID: 100000\n", c: inUserNamespace(kubeletRange, kubeletRange),
			want: []string{"below userNamespaces.minHostID (test.yaml:7) 100000"}},
		{name: "no mappings", policy: on, c: inUserNamespace(nil, nil), want: []string{"its user namespace has no linux.uidMappings"}},
		{name: "mappings that could not be read", policy: on, c: func() *view.Container {
			c := inUserNamespace(nil, nil)
			c.Process.IDMapsUnknown = "it joins the user namespace /proc/9/ns/user, whose id mappings cannot be read (gone)"
			return c
		}(), want: []string{"whose id mappings cannot be read (gone)"}},
		{name: "remap refuses too: it would join the same namespace", policy: on + "  action: remap\n", c: inUserNamespace(rootToRoot, rootToRoot),
			want: []string{"host id 0 is the node's root"}, verdicts: []Verdict{Refuse}},
		{name: "non-root in a root-to-root namespace is not this control's", policy: on,
			c: func() *view.Container { c := inUserNamespace(rootToRoot, rootToRoot); c.Process.UID = 1000; return c }()},
	})
}

func TestUserNamespacesRequireTrustsOnlyUserNamespacesAboveTheFloor(t *testing.T) {
	on := "userNamespaces:\n  mode: enforce\n"
	rootToRoot := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	runTable(t, UserNamespaces{}, []testCase{
		{name: "kubelet's range passes", policy: on, c: inUserNamespace(kubeletRange, kubeletRange)},
		{name: "root to root, also for a non-root process", policy: on,
			c:    func() *view.Container { c := inUserNamespace(rootToRoot, rootToRoot); c.Process.UID = 1000; return c }(),
			want: []string{"user-namespaces: linux.namespaces.user = (a new one): its user namespace does not keep container root off the node's root: linux.uidMappings maps container id 0 to host id 0 (4294967295 ids), and host id 0 is the node's root, by rule userNamespaces.minHostID (built-in default)"}},
		{name: "the sandbox too", policy: on,
			c:    func() *view.Container { c := inUserNamespace(rootToRoot, rootToRoot); c.Sandbox = true; return c }(),
			want: []string{"host id 0 is the node's root"}},
		{name: "NRI shows no mappings: the wrapper judges", policy: on,
			c: func() *view.Container { c := inUserNamespace(nil, nil); c.Process = nil; return c }()},
		{name: "enable does not trust it either", policy: on + "  want: enable\n", c: inUserNamespace(rootToRoot, rootToRoot),
			want: []string{"host id 0 is the node's root"}, verdicts: []Verdict{Refuse}},
	})
}
