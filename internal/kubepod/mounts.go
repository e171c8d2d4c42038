package kubepod

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultMounts are the runtime's own (containerd's default spec); /sys
// is read-only unless the container is privileged.
func defaultMounts(priv bool) []specs.Mount {
	sys := "ro"
	if priv {
		sys = "rw"
	}
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", sys}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", sys}},
	}
}

// containerMounts are the files kubelet and containerd give every
// container (hosts, hostname, resolv.conf, shm, termination log) and the
// container's volumeMounts: a hostPath volume is a bind mount of the host
// path, every other volume one of kubelet's directory for the pod.
func containerMounts(p *Pod, c *container, out *Container) []specs.Mount {
	podDir := path.Join(kubeletRoot, "pods", podUID(p))
	shm := criRoot + sandboxID + "/shm"
	if p.Spec.HostIPC {
		shm = "/dev/shm" // containerd hands a host-IPC pod the node's /dev/shm
	}
	ms := []specs.Mount{
		bindMount(path.Join(podDir, "etc-hosts"), "/etc/hosts", false),
		bindMount(criRoot+sandboxID+"/hostname", "/etc/hostname", false),
		bindMount(criRoot+sandboxID+"/resolv.conf", "/etc/resolv.conf", false),
		bindMount(shm, "/dev/shm", false),
		bindMount(path.Join(podDir, "containers", c.Name, "offline"), "/dev/termination-log", false),
	}
	for _, vm := range c.VolumeMounts {
		v := findVolume(p.Spec.Volumes, vm.Name)
		if v == nil {
			out.Assumed = append(out.Assumed, fmt.Sprintf("volumeMounts: no volume %q in the pod (the API server would reject it); left out", vm.Name))
			continue
		}
		src := path.Join(volumeSource(podDir, v), vm.SubPath)
		ms = append(ms, bindMount(src, vm.MountPath, vm.ReadOnly))
	}
	return ms
}

func bindMount(src, dst string, ro bool) specs.Mount {
	mode := "rw"
	if ro {
		mode = "ro"
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rprivate", mode}}
}

func findVolume(vols []volume, name string) *volume {
	for i := range vols {
		if vols[i].Name == name {
			return &vols[i]
		}
	}
	return nil
}

// volumeSource is where the volume's files are on the node.
func volumeSource(podDir string, v *volume) string {
	if v.HostPath != nil {
		return v.HostPath.Path
	}
	plugin := "kubernetes.io~volume"
	switch {
	case v.EmptyDir != nil:
		plugin = "kubernetes.io~empty-dir"
	case v.ConfigMap != nil:
		plugin = "kubernetes.io~configmap"
	case v.Secret != nil:
		plugin = "kubernetes.io~secret"
	case v.Projected != nil:
		plugin = "kubernetes.io~projected"
	}
	return path.Join(podDir, "volumes", plugin, v.Name)
}
