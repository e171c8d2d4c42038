package wrapper

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/userns"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// settleIDMaps decides, for a container the guard moves into a user
// namespace, what becomes of each volume the kernel cannot idmap (NFS,
// FUSE, overlayfs, tmpfs before Linux 6.3): runc would fail the start on
// it with MOUNT_ATTR_IDMAP's EINVAL. A mount that lives and dies with
// the pod (the kubelet's emptyDir, projected, secret, configMap and
// downward API volumes, its hosts file and termination log, containerd's
// per-sandbox files) is bound without the idmap: the pod reaches its
// files as its namespace's host ids, which is never more than the idmap
// gives, and nothing of it outlives the pod. Any other volume refuses the
// container, naming the mount and its file system: files the pod wrote
// there as root would be owned by host ids of this pod's range, which
// its next pod does not get.
func settleIDMaps(cfg Config, spec *specs.Spec, c *view.Container) error {
	if !slices.ContainsFunc(spec.Mounts, wantsIDMap) {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	prober := userns.NewProber(self, cfg.IDMapAnswers)
	defer prober.Close()
	unmappable, err := userns.Unmappable(spec, prober)
	if err != nil {
		return err
	}
	for i := range spec.Mounts {
		fs, ok := unmappable[i]
		if !ok {
			continue
		}
		dest := spec.Mounts[i].Destination
		source, lifetime := podLifetime(c, dest)
		if !lifetime {
			return fmt.Errorf("mounts[%s].source = %s: on %s, which this kernel cannot idmap; the files the pod writes there as root would belong to host ids only this pod's namespace maps", dest, source, fs)
		}
		userns.DropIDMap(spec, i)
	}
	return nil
}

func wantsIDMap(m specs.Mount) bool {
	return view.IsBindMount(m.Type, m.Options) && (slices.Contains(m.Options, "idmap") || slices.Contains(m.Options, "ridmap"))
}

// kubeletPodFiles are the kubelet's per-pod volume kinds and files that
// live only as long as the pod, by their place in pods/<uid>/.
var kubeletPodFiles = []string{
	"volumes/kubernetes.io~empty-dir/", "volumes/kubernetes.io~projected/", "volumes/kubernetes.io~secret/",
	"volumes/kubernetes.io~configmap/", "volumes/kubernetes.io~downward-api/", "etc-hosts", "containers/",
}

// podLifetime finds the judged source of the mount at dest (the spec's
// source is the wrapper's pin of it) and says whether it lives only as
// long as the pod. Being wrong here costs the pod access, never adds
// any: a mount without the idmap gives the pod less than one with it.
func podLifetime(c *view.Container, dest string) (string, bool) {
	i := slices.IndexFunc(c.Mounts, func(m view.Mount) bool { return m.Destination == dest })
	if i < 0 {
		return "(a mount the guard added)", false
	}
	source := c.Mounts[i].Source
	if view.PathElement(c.Pod.UID) {
		at := "/pods/" + c.Pod.UID + "/"
		if _, rest, ok := strings.Cut(source, at); ok && slices.ContainsFunc(kubeletPodFiles, func(p string) bool { return strings.HasPrefix(rest, p) }) {
			return source, true
		}
	}
	if view.PathElement(c.Pod.ID) {
		at := "/io.containerd.grpc.v1.cri/sandboxes/" + c.Pod.ID + "/"
		if _, leaf, ok := strings.Cut(source, at); ok && slices.Contains([]string{"hosts", "hostname", "resolv.conf", "shm"}, leaf) {
			return source, true
		}
	}
	return source, false
}
