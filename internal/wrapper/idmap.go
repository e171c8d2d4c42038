package wrapper

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/userns"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// lifetime is what settleIDMaps needs to know to tell the kubelet's and
// containerd's per-pod mounts from every other: the kubelet's root
// directory (the policy's hostMounts.kubeletRoot) and containerd's state
// directory, which the bundle's path gives (containerd chooses it; a CRI
// client cannot).
type lifetime struct {
	kubeletRoot, containerdState string
}

// lifetimeOf reads the two places for a container.
func lifetimeOf(settings *policy.Controls, bundle string) lifetime {
	l := lifetime{kubeletRoot: policy.CleanHostPath(string(settings.HostMounts.KubeletRoot.Value))}
	// <state>/io.containerd.runtime.v2.task/<namespace>/<id>
	if abs, err := filepath.Abs(bundle); err == nil {
		if state, _, ok := strings.Cut(abs, "/io.containerd.runtime.v2.task/"); ok {
			l.containerdState = state
		}
	}
	return l
}

// settleIDMaps decides, for a container the guard moves into a user
// namespace, what becomes of each volume the kernel cannot idmap (NFS,
// FUSE, overlayfs, tmpfs before Linux 6.3): runc would fail the start on
// it with MOUNT_ATTR_IDMAP's EINVAL. A mount the kubelet or containerd
// made fresh for this pod (its emptyDir, projected, secret, configMap
// and downward API volumes, its hosts file and termination log,
// containerd's shm for the sandbox) is bound without the idmap: the pod
// reaches it as its namespace's host ids, and it holds nothing but what
// this pod put there. Every other volume refuses the container, naming
// the mount and its file system: files on it owned by the namespace's
// host ids would be the pod's (an earlier holder of the same range left
// them), and files the pod writes would belong to ids its next pod does
// not get. A volume with mounts below it is idmapped with them all
// (ridmap), and refused if one of them cannot be.
func settleIDMaps(cfg Config, spec *specs.Spec, c *view.Container, l lifetime) error {
	if !slices.ContainsFunc(spec.Mounts, wantsIDMap) {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	prober := userns.NewProber(self, cfg.IDMapAnswers)
	defer prober.Close()
	found, err := userns.Unmappable(spec, prober)
	if err != nil {
		return err
	}
	for _, m := range spec.Mounts {
		if wantsIDMap(m) && propagates(m.Options) {
			return fmt.Errorf("mounts[%s]: mount propagation from the node (%s) cannot go with the user namespace's idmap: a mount made on the node later would reach the container without it", m.Destination, strings.Join(slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return !propagates([]string{o}) }), ","))
		}
	}
	// In the spec's order, so the refusal names the first mount that
	// fails, the same one every time.
	for _, i := range slices.Sorted(maps.Keys(found)) {
		f, m := found[i], spec.Mounts[i]
		switch {
		case f.Below != "":
			return fmt.Errorf("mounts[%s]: the mount below it at %s is on %s, which this kernel cannot idmap", m.Destination, f.Below, f.FS)
		case f.FS == "": // it and every mount below it can be idmapped
			userns.IDMapRecursively(spec, i)
		case !f.Submounts && podFresh(c, m.Destination, l):
			// (with mounts below, not even a fresh volume goes unmapped:
			// they are whatever was mounted there)
			userns.DropIDMap(spec, i)
		default:
			judged, _ := judgedSource(c, m.Destination)
			return fmt.Errorf("mounts[%s].source = %s: on %s, which this kernel cannot idmap; files on it owned by this pod's host ids would be the pod's, and the files it writes there as root would belong to ids only this pod's namespace maps", m.Destination, judged.Source, f.FS)
		}
	}
	return nil
}

// propagates reports whether the options let mounts propagate in from
// the node (HostToContainer, Bidirectional).
func propagates(options []string) bool {
	return slices.ContainsFunc(options, func(o string) bool {
		return o == "rslave" || o == "slave" || o == "rshared" || o == "shared"
	})
}

func wantsIDMap(m specs.Mount) bool {
	return view.IsBindMount(m.Type, m.Options) && (slices.Contains(m.Options, "idmap") || slices.Contains(m.Options, "ridmap"))
}

// judgedSource is the source the guard judged for the mount at dest (the
// spec's source is the wrapper's pin of it); false when no judged mount,
// or more than one, has that destination.
func judgedSource(c *view.Container, dest string) (view.Mount, bool) {
	var found []view.Mount
	for _, m := range c.Mounts {
		if m.Destination == dest {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return view.Mount{Source: "(a mount the guard cannot tell apart)"}, false
	}
	return found[0], true
}

// kubeletFresh are the kubelet's volume kinds whose directory it makes
// empty for each pod and removes with it.
var kubeletFresh = []string{"kubernetes.io~empty-dir", "kubernetes.io~projected", "kubernetes.io~secret",
	"kubernetes.io~configmap", "kubernetes.io~downward-api"}

// sandboxFresh maps the container paths of containerd's per-sandbox files
// that it makes in its state directory to their names there.
var sandboxFresh = map[string]string{"/dev/shm": "shm", "/etc/hosts": "hosts", "/etc/hostname": "hostname", "/etc/resolv.conf": "resolv.conf"}

// podFresh says whether the mount at dest is one the kubelet or
// containerd made for this very pod, by its exact place: below the
// kubelet's root, for the pod UID a signed record vouches for, one of
// the fresh volume kinds one directory deep, the hosts file, or a
// termination log; or containerd's file for the sandbox in its state
// directory at the path containerd mounts it. A subPath is never fresh
// (its host path is whatever the pod named), nor an ambiguous
// destination.
func podFresh(c *view.Container, dest string, l lifetime) bool {
	m, ok := judgedSource(c, dest)
	if !ok || m.Via != "" || m.Unresolved != "" {
		return false
	}
	src := policy.CleanHostPath(m.Source)
	if leaf, ok := sandboxFresh[dest]; ok && l.containerdState != "" && view.PathElement(c.Pod.ID) &&
		src == l.containerdState+"/io.containerd.grpc.v1.cri/sandboxes/"+c.Pod.ID+"/"+leaf {
		return true
	}
	if c.Pod.UIDDoubt != "" || !view.PathElement(c.Pod.UID) || l.kubeletRoot == "/" {
		return false
	}
	rest, ok := strings.CutPrefix(src, l.kubeletRoot+"/pods/"+c.Pod.UID+"/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 3 && parts[0] == "volumes" && slices.Contains(kubeletFresh, parts[1]):
		return true
	case len(parts) == 1 && parts[0] == "etc-hosts" && dest == "/etc/hosts":
		return true
	case len(parts) == 3 && parts[0] == "containers":
		return true // the termination log: containers/<name>/<id>
	}
	return false
}
