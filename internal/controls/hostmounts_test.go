package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withMounts(ms ...view.Mount) *view.Container {
	return ctr(func(c *view.Container) { c.Mounts = ms })
}

func TestHostMounts(t *testing.T) {
	runTable(t, HostMounts{}, []testCase{
		{name: "no mounts pass", c: ctr(nil)},
		{name: "non-bind mounts are not host paths", c: withMounts(
			view.Mount{Source: "proc", Destination: "/proc", Type: "proc"},
			view.Mount{Source: "tmpfs", Destination: "/dev", Type: "tmpfs"})},
		{name: "harmless host path passes", c: withMounts(bind("/srv/data", "/data"))},
		{name: "root refused", c: withMounts(bind("/", "/host")),
			want:     []string{"host-mounts: mounts[/host].source = /: is /, denied, by rule hostMounts.paths (built-in default); to allow it, add an exception for this pod that sets hostMounts.allow: [/]"},
			verdicts: []Verdict{Refuse}},
		{name: "parent of the K3s socket refused", c: withMounts(bind("/run", "/hostrun")),
			want: []string{"mounts[/hostrun].source = /run: contains /run/k3s/containerd/containerd.sock, denied"}},
		{name: "/var/run is /run", c: withMounts(bind("/var/run/", "/r")),
			want: []string{"= /run: contains /run/k3s/containerd/containerd.sock"}},
		{name: "dot-dot is normalised", c: withMounts(bind("/tmp/../etc/", "/e")),
			want: []string{"= /etc: is /etc"}},
		{name: "below a sensitive path refused", c: withMounts(bind("/var/lib/rancher/k3s", "/k3s")),
			want: []string{"= /var/lib/rancher/k3s: is inside /var/lib/rancher"}},
		{name: "parent of several picks the deepest", c: withMounts(bind("/var", "/v")),
			want: []string{"= /var: contains /var/lib/containerd"}},
		{name: "read-only mount of a denied path still refused", c: withMounts(bind("/etc", "/e", "ro")),
			want: []string{"is /etc, denied"}},
		{name: "writable /var/log refused", c: withMounts(bind("/var/log/pods", "/logs", "rw")),
			want: []string{"= /var/log/pods: is inside /var/log, which may only be mounted read-only, by rule hostMounts.readOnlyPaths"}},
		{name: "read-only /var/log passes", c: withMounts(bind("/var/log", "/logs", "rw", "ro"))},
		{name: "drop action rewrites", policy: "hostMounts:\n  action: drop\n", c: withMounts(bind("/", "/host")),
			want: []string{"(the mount is removed)"}, verdicts: []Verdict{Rewrite}},
		{name: "readOnly action rewrites a writable mount", policy: "hostMounts:\n  action: readOnly\n", c: withMounts(bind("/var/log", "/logs")),
			want: []string{"(the mount is made read-only)"}, verdicts: []Verdict{Rewrite}},
		{name: "readOnly action accepts what is already read-only", policy: "hostMounts:\n  action: readOnly\n", c: withMounts(bind("/etc", "/e", "ro"))},
		{name: "allow exempts a path and below", policy: "hostMounts:\n  allow: [/var/lib/rancher/k3s/storage]\n",
			c: withMounts(bind("/var/lib/rancher/k3s/storage/pvc-1", "/data"))},
		{name: "allow does not exempt the parent", policy: "hostMounts:\n  allow: [/var/lib/rancher/k3s/storage]\n",
			c: withMounts(bind("/var/lib/rancher/k3s", "/data")), want: []string{"is inside /var/lib/rancher"}},
		{name: "extra paths cite their rule", policy: "hostMounts:\n  extraPaths: [/srv/secrets]\n",
			c: withMounts(bind("/srv/secrets/db", "/s")), want: []string{"is inside /srv/secrets, denied, by rule hostMounts.extraPaths (test.yaml:5)"}},
		{name: "the pod's own kubelet volumes pass", c: withMounts(
			bind("/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/cache", "/cache"),
			bind("/var/lib/kubelet/pods/uid-1/containers/app/abcd", "/dev/termination-log"))},
		{name: "the pod's own volumes refused when its UID is in doubt", c: func() *view.Container {
			c := withMounts(bind("/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~secret/token", "/token", "ro"))
			c.Pod.UIDDoubt = "pod sandbox s2 holds the same pod UID"
			return c
		}(), want: []string{"is inside /var/lib/kubelet, denied (not credited as the pod's own volume: pod sandbox s2 holds the same pod UID)"}},
		{name: "another pod's volumes refused", c: withMounts(bind("/var/lib/kubelet/pods/uid-2/volumes/x", "/x")),
			want: []string{"is inside /var/lib/kubelet"}},
		{name: "a dot-dot pod UID does not widen", c: func() *view.Container {
			c := withMounts(bind("/var/lib/kubelet/plugins", "/x"))
			c.Pod.UID = ".."
			return c
		}(), want: []string{"is inside /var/lib/kubelet"}},
		{name: "containerd's own sandbox files pass", c: withMounts(
			bind("/var/lib/rancher/k3s/agent/containerd/io.containerd.grpc.v1.cri/sandboxes/sandbox1/hosts", "/etc/hosts"),
			bind("/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/sandbox1/shm", "/dev/shm"))},
		{name: "another sandbox's files refused", c: withMounts(
			bind("/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/other/shm", "/dev/shm")),
			want: []string{"is inside /run/k3s"}},
		{name: "sandbox file at the wrong destination refused", c: withMounts(
			bind("/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/sandbox1/shm", "/x")),
			want: []string{"is inside /run/k3s"}},
		{name: "mount added by a plugin is attributed", c: withMounts(func() view.Mount {
			m := bind("/", "/host")
			m.AddedBy = "20-evil"
			return m
		}()), want: []string{"(set by NRI plugin 20-evil)"}},
	})
}
