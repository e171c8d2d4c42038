package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

// A kubelet subPath mount is judged by the host path it shows, which the
// view builder resolved; one it could not resolve is refused by both
// host-mount controls, since it could show any host directory.
func TestSubPathMounts(t *testing.T) {
	resolved := func(host string) func(c *view.Container) {
		return func(c *view.Container) {
			c.Pod.UID = "uid-1"
			bindMount("/var/lib/kubelet/pods/uid-1/volume-subpaths/host/app/0", "/h")(c)
			view.ResolveSubPath(&c.Mounts[len(c.Mounts)-1], func(string) (string, error) { return host, nil })
		}
	}
	unresolved := func(c *view.Container) {
		c.Pod.UID = "uid-1"
		bindMount("/var/lib/kubelet/pods/uid-1/volume-subpaths/host/app/0", "/h")(c)
		view.ResolveSubPath(&c.Mounts[len(c.Mounts)-1], nil)
	}
	on := "hostPathVolumes:\n  mode: enforce\n"
	runTable(t, HostMounts{}, []testCase{
		{name: "hostPath / with subPath etc is /etc", c: ctr(resolved("/etc")),
			want: []string{"host-mounts: mounts[/h].source = /etc: is /etc, denied"}, verdicts: []Verdict{Refuse}},
		{name: "a subPath of the pod's own emptyDir passes", c: ctr(resolved("/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/x/sub"))},
		{name: "unresolved is refused", c: ctr(unresolved),
			want:     []string{"host-mounts: mounts[/h].source = /var/lib/kubelet/pods/uid-1/volume-subpaths/host/app/0: a kubelet subPath mount whose host path cannot be told (this caller cannot read the node's mount table), by rule hostMounts.mode (built-in default)"},
			verdicts: []Verdict{Refuse}},
	})
	runTable(t, HostPathVolumes{}, []testCase{
		{name: "hostPath with subPath is a host path", policy: on, c: ctr(resolved("/srv/data/sub")),
			want: []string{"host-path-volumes: mounts[/h].source = /srv/data/sub: a host path"}, verdicts: []Verdict{Refuse}},
		{name: "unresolved is refused", policy: on, c: ctr(unresolved),
			want: []string{"cannot be told"}, verdicts: []Verdict{Refuse}},
	})
}

// K3s's default StorageClass (local-path) turns a PersistentVolumeClaim
// into a bind of <storage>/pvc-<uid>_<namespace>_<claim>: the pod's
// namespace may mount its own, nothing else there.
func TestLocalPathVolumes(t *testing.T) {
	in := func(ns, src string) *view.Container {
		return ctr(func(c *view.Container) { c.Pod.Namespace = ns; bindMount(src, "/data")(c) })
	}
	const storage = "/var/lib/rancher/k3s/storage/"
	on := "hostPathVolumes:\n  mode: enforce\n"
	runTable(t, HostMounts{}, []testCase{
		{name: "own namespace's volume passes", c: in("shop", storage+"pvc-1f2e_shop_data")},
		{name: "and below it", c: in("shop", storage+"pvc-1f2e_shop_data/sub")},
		{name: "another namespace's volume is refused", c: in("shop", storage+"pvc-1f2e_bank_data"),
			want: []string{"is inside /var/lib/rancher, denied"}},
		{name: "the storage directory itself is refused", c: in("shop", "/var/lib/rancher/k3s/storage"), want: []string{"denied"}},
		{name: "a name that only looks alike is refused", c: in("shop", storage+"pvc-1_shop_data_x"), want: []string{"denied"}},
		{name: "a node with its storage elsewhere", policy: "hostMounts:\n  localStorage: /srv/storage\n", c: in("shop", storage+"pvc-1f2e_shop_data"),
			want: []string{"denied"}},
		{name: "uses its own path", policy: "hostMounts:\n  localStorage: /srv/storage\n", c: in("shop", "/srv/storage/pvc-1f2e_shop_data")},
	})
	runTable(t, HostPathVolumes{}, []testCase{
		{name: "own namespace's volume is not a hostPath volume", policy: on, c: in("shop", storage+"pvc-1f2e_shop_data")},
		{name: "another namespace's is", policy: on, c: in("shop", storage+"pvc-1f2e_bank_data"), want: []string{"a host path"}},
	})
}
