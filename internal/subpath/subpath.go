// Package subpath finds the host path behind kubelet's subPath mounts.
//
// For a volumeMount with a subPath, kubelet does not hand the runtime the
// volume's directory: it bind-mounts the sub-directory onto
// <kubelet root>/pods/<pod uid>/volume-subpaths/<volume>/<container>/<n>
// and gives that as the mount's source. The source then lies in the
// pod's own directory whatever it shows, so a hostPath volume of "/"
// mounted with subPath "etc" would look like the pod's own volume. The
// node's mount table says what it really is: the filesystem and the
// directory within it that the bind shows.
package subpath

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// IsKubeletSubPath reports whether src has the shape of kubelet's subPath
// binds.
func IsKubeletSubPath(src string) bool {
	src = path.Clean(src)
	i := strings.Index(src, "/pods/")
	return i >= 0 && strings.Contains(src[i:], "/volume-subpaths/")
}

// HostPath returns the path on the node that the subPath bind mounted at
// src shows, from this process's mount table (the node's, for the plugin
// and the wrapper).
func HostPath(src string) (string, error) {
	infos, err := mountinfo.GetMounts(nil)
	if err != nil {
		return "", err
	}
	return hostPathIn(infos, src)
}

// hostPathIn finds the mount at src (the last one, if several are
// stacked there), then the mount of the same filesystem closest to that
// filesystem's root that contains the directory the bind shows: the
// path under that mount's mount point is the host path.
func hostPathIn(infos []*mountinfo.Info, src string) (string, error) {
	src = path.Clean(src)
	var bind *mountinfo.Info
	for _, i := range infos {
		if i.Mountpoint == src {
			bind = i
		}
	}
	if bind == nil {
		return "", fmt.Errorf("nothing is mounted at %s", src)
	}
	var best *mountinfo.Info
	for _, i := range infos {
		if i == bind || i.Major != bind.Major || i.Minor != bind.Minor || IsKubeletSubPath(i.Mountpoint) {
			continue
		}
		if !contains(i.Root, bind.Root) {
			continue
		}
		if best == nil || len(i.Root) < len(best.Root) {
			best = i
		}
	}
	if best == nil {
		return "", fmt.Errorf("the filesystem shown at %s (device %d:%d, %s) is mounted nowhere else on the node", src, bind.Major, bind.Minor, bind.Root)
	}
	return path.Join(best.Mountpoint, strings.TrimPrefix(bind.Root, best.Root)), nil
}

func contains(dir, p string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}
