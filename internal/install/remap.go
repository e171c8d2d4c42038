package install

import (
	"fmt"
	"os"
	"strings"

	"github.com/nri-guard/nri-guard/internal/userns"
	"golang.org/x/sys/unix"
)

// Whether the installed policy runs root containers in user namespaces
// (runAsRoot action: remap, userNamespaces want: enable): root in a
// container is then not root on the node.
const (
	RemapAuto = "auto" // when this node's kernel passes the probe
	RemapOn   = "on"
	RemapOff  = "off"
)

// kubeletRoot is where K3s's kubelet keeps its pods' volumes.
const kubeletRoot = "/var/lib/kubelet"

// decideRemap says whether to remap, and why. auto probes the running
// kernel, so only for the real root: a tree being prepared for another
// machine is not this kernel's.
func decideRemap(o *Options) (bool, string) {
	switch o.Remap {
	case RemapOn:
		return true, "--remap on"
	case RemapOff:
		return false, "--remap off"
	}
	if o.Root != "/" {
		return false, "not probed with --root (the kernel here need not be the node's); --remap on turns it on"
	}
	return probeRemap([]string{k3sDataDir, kubeletRoot})
}

// probeRemap asks the kernel what remapped containers need: a user
// namespace, idmapped tmpfs (the guard's copies of the scratch
// directories, the kubelet's tokens; Linux 6.3 and later), and idmapped
// mounts of the file systems the pods' volumes lie on (local-path's
// storage, the kubelet's volumes).
func probeRemap(dirs []string) (bool, string) {
	self, err := os.Executable()
	if err != nil {
		return false, err.Error()
	}
	p := userns.NewProber(self, "")
	defer p.Close()
	scratch, err := os.MkdirTemp("/run", "nri-guard-probe-")
	if err != nil {
		return false, err.Error()
	}
	defer os.Remove(scratch)
	if err := unix.Mount("tmpfs", scratch, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k"); err != nil {
		return false, fmt.Sprintf("cannot mount a tmpfs to probe: %v", err)
	}
	defer unix.Unmount(scratch, unix.MNT_DETACH)
	var seen []string
	for _, dir := range append([]string{scratch}, dirs...) {
		if _, err := os.Stat(dir); err != nil && dir != scratch {
			continue // no volumes there yet
		}
		ok, fs, err := p.CanIDMap(dir)
		switch {
		case err != nil:
			return false, err.Error()
		case !ok && dir == scratch:
			return false, "this kernel cannot idmap tmpfs (Linux 6.3 and later can)"
		case !ok:
			return false, fmt.Sprintf("this kernel cannot idmap %s (%s)", dir, fs)
		}
		if dir != scratch {
			seen = append(seen, dir+" ("+fs+")")
		}
	}
	return true, "this kernel idmaps tmpfs and " + strings.Join(seen, ", ")
}
