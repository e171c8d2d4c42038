package subpath

import (
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

const sub = "/var/lib/kubelet/pods/uid-1/volume-subpaths/host/app/0"

func mount(major, minor int, root, at string) *mountinfo.Info {
	return &mountinfo.Info{Major: major, Minor: minor, Root: root, Mountpoint: at}
}

func TestHostPath(t *testing.T) {
	for _, tc := range []struct {
		name   string
		infos  []*mountinfo.Info
		want   string
		errHas string
	}{
		{"hostPath / with subPath etc", []*mountinfo.Info{mount(8, 1, "/", "/"), mount(8, 1, "/etc", sub)}, "/etc", ""},
		{"a filesystem mounted at /var", []*mountinfo.Info{mount(8, 1, "/", "/"), mount(8, 2, "/", "/var"), mount(8, 2, "/lib/rancher/k3s/storage/pvc-1/data", sub)},
			"/var/lib/rancher/k3s/storage/pvc-1/data", ""},
		{"a configMap volume's tmpfs is the pod's own", []*mountinfo.Info{mount(8, 1, "/", "/"),
			mount(0, 99, "/", "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~configmap/cfg"), mount(0, 99, "/..2026_11_28/app.conf", sub)},
			"/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~configmap/cfg/..2026_11_28/app.conf", ""},
		{"the canonical mount wins over another bind of the same directory", []*mountinfo.Info{mount(8, 1, "/", "/"), mount(8, 1, "/etc", "/srv/etc-copy"), mount(8, 1, "/etc/ssh", sub)},
			"/etc/ssh", ""},
		{"the top of a stack counts", []*mountinfo.Info{mount(8, 1, "/", "/"), mount(8, 1, "/tmp/x", sub), mount(8, 1, "/root", sub)}, "/root", ""},
		{"nothing mounted there", []*mountinfo.Info{mount(8, 1, "/", "/")}, "", "nothing is mounted"},
		{"a filesystem seen only through the bind", []*mountinfo.Info{mount(8, 1, "/", "/"), mount(8, 7, "/secret", sub)}, "", "mounted nowhere else"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hostPathIn(tc.infos, sub)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("got %q %v, want an error with %q", got, err, tc.errHas)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestIsKubeletSubPath(t *testing.T) {
	for src, want := range map[string]bool{
		sub: true,
		"/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/x": false,
		"/srv/volume-subpaths/x":                                false,
		"/var/lib/kubelet/pods/../pods/u/volume-subpaths/v/c/0": true,
	} {
		if got := IsKubeletSubPath(src); got != want {
			t.Errorf("%s: %v, want %v", src, got, want)
		}
	}
}
