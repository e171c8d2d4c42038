package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func bindMount(src, dst string, opts ...string) func(c *view.Container) {
	return func(c *view.Container) {
		c.Mounts = append(c.Mounts, view.Mount{Source: src, Destination: dst, Type: "bind", Options: append([]string{"rbind"}, opts...)})
	}
}

func TestHostPathVolumes(t *testing.T) {
	on := "hostPathVolumes:\n  mode: enforce\n"
	runTable(t, HostPathVolumes{}, []testCase{
		{name: "no mounts pass", policy: on, c: ctr(nil)},
		{name: "any host path is refused, read-only too", policy: on, c: ctr(bindMount("/a", "/data", "ro")),
			want:     []string{"host-path-volumes: mounts[/data].source = /a: a host path that is not the pod's own volume, by rule hostPathVolumes.mode (test.yaml:5); to allow it, add an exception for this pod that sets hostPathVolumes.allow: [/a]"},
			verdicts: []Verdict{Refuse}},
		{name: "path normalised", policy: on, c: ctr(bindMount("/srv/../a/", "/data")), want: []string{"= /a:"}},
		{name: "allowed path and below pass", policy: on + "  allow: [/var/lib/rancher/k3s/storage]\n",
			c: ctr(bindMount("/var/lib/rancher/k3s/storage/pvc-1", "/data"))},
		{name: "allow does not reach a sibling", policy: on + "  allow: [/srv/a]\n",
			c: ctr(bindMount("/srv/ab", "/data")), want: []string{"= /srv/ab:"}},
		{name: "the pod's own kubelet volume passes", policy: on, c: ctr(func(c *view.Container) {
			c.Pod.UID = "uid-1"
			bindMount("/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/tmp", "/tmp")(c)
		})},
		{name: "another pod's kubelet volume is a host path", policy: on, c: ctr(func(c *view.Container) {
			c.Pod.UID = "uid-1"
			bindMount("/var/lib/kubelet/pods/uid-2/volumes/x", "/x")(c)
		}), want: []string{"= /var/lib/kubelet/pods/uid-2/volumes/x:"}},
		{name: "non-bind mounts are not host paths", policy: on, c: ctr(func(c *view.Container) {
			c.Mounts = append(c.Mounts, view.Mount{Source: "tmpfs", Destination: "/run", Type: "tmpfs"})
		})},
	})
}
