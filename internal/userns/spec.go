// Package userns moves a container into a user namespace by editing its
// OCI spec, for pods whose runtime client did not ask for one. containerd
// prepared such a pod for the node's user namespace: its network
// namespace belongs to the node's, and its image layers are not
// idmapped. The edits here are what runc needs to start it anyway (each
// one found on runc 1.5 and containerd 2.x, see the e2e suite):
//
//   - sysfs cannot be mounted from a user namespace that does not own the
//     network namespace, so /sys becomes a recursive read-only bind of the
//     node's /sys;
//   - volumes (bind mounts) are idmapped, so files the pod owns on disk as
//     uid 0 are uid 0 inside, and the pod can still write its volumes;
//   - net.* sysctls cannot be written from inside; the wrapper writes them
//     into the pod's network namespace itself (NetSysctls);
//   - mount targets missing from the image are created beforehand
//     (MountTargets), because the image's files belong to an id the
//     namespace does not map, so runc could not create them from inside.
package userns

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Size is how many ids a pod's namespace maps (0-65535 inside).
const Size = 65536

// Own gives the container a new user namespace mapping ids 0-65535 to
// host ids from start. joinsNodeOwnedIPC says that the IPC and UTS
// namespaces it joins belong to the node's user namespace (a container
// remapped in a pod whose sandbox has none): then it cannot mount an
// mqueue filesystem or set a hostname there, so those are left out.
func Own(spec *specs.Spec, start uint32, joinsNodeOwnedIPC bool) {
	lnx := linux(spec)
	setUserNamespace(lnx, "")
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: start, Size: Size}}
	lnx.UIDMappings, lnx.GIDMappings = m, slices.Clone(m)
	if joinsNodeOwnedIPC {
		spec.Mounts = slices.DeleteFunc(spec.Mounts, func(m specs.Mount) bool { return m.Type == "mqueue" })
		spec.Hostname = ""
	}
	adaptMounts(spec)
}

// Join puts the container into an existing user namespace (the pod
// sandbox's) at path. runc reads the mappings from the namespace itself
// and refuses a spec that also names them.
func Join(spec *specs.Spec, path string) {
	lnx := linux(spec)
	setUserNamespace(lnx, path)
	lnx.UIDMappings, lnx.GIDMappings = nil, nil
	adaptMounts(spec)
}

func linux(spec *specs.Spec) *specs.Linux {
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	return spec.Linux
}

func setUserNamespace(lnx *specs.Linux, path string) {
	lnx.Namespaces = slices.DeleteFunc(lnx.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
	lnx.Namespaces = append(lnx.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: path})
}

// adaptMounts replaces the sysfs mount and idmaps every bind mount.
func adaptMounts(spec *specs.Spec) {
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		switch {
		case m.Type == "sysfs":
			*m = sysBind(m.Options)
			maskNodeSysMounts(spec)
		case view.IsBindMount(m.Type, m.Options) && m.UIDMappings == nil && !hasIDMap(m.Options):
			m.Options = append(slices.Clone(m.Options), "idmap")
		}
	}
}

// nodeSysMounts are filesystems mounted below the node's /sys that a
// container's own sysfs never shows, but a bind of the node's /sys does:
// security modules' state, configfs, debug and trace data, crash dumps,
// pinned BPF objects, FUSE connections.
var nodeSysMounts = []string{
	"/sys/kernel/security", "/sys/kernel/config", "/sys/kernel/debug", "/sys/kernel/tracing",
	"/sys/fs/pstore", "/sys/fs/bpf", "/sys/fs/fuse/connections",
}

// maskNodeSysMounts hides them (runc mounts an empty read-only tmpfs over
// a masked directory and skips one that does not exist).
func maskNodeSysMounts(spec *specs.Spec) {
	lnx := linux(spec)
	for _, p := range nodeSysMounts {
		if !slices.Contains(lnx.MaskedPaths, p) {
			lnx.MaskedPaths = append(lnx.MaskedPaths, p)
		}
	}
}

// sysBind is the node's /sys, read-only all the way down, keeping the
// sysfs mount's nosuid/noexec/nodev.
func sysBind(options []string) specs.Mount {
	opts := []string{"rbind"}
	for _, o := range options {
		if o == "nosuid" || o == "noexec" || o == "nodev" {
			opts = append(opts, o)
		}
	}
	return specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: append(opts, "rro")}
}

func hasIDMap(options []string) bool {
	return slices.Contains(options, "idmap") || slices.Contains(options, "ridmap")
}

// TakeNetSysctls removes the net.* sysctls from the spec and returns
// them, for the caller to write into the network namespace itself.
func TakeNetSysctls(spec *specs.Spec) map[string]string {
	if spec.Linux == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range spec.Linux.Sysctl {
		if strings.HasPrefix(k, "net.") {
			out[k] = v
			delete(spec.Linux.Sysctl, k)
		}
	}
	return out
}

// NamespacePath is the path of the namespace of type t the container
// joins, "" when it gets a new one (or shares the node's by omission).
func NamespacePath(spec *specs.Spec, t specs.LinuxNamespaceType) string {
	if spec.Linux == nil {
		return ""
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path
		}
	}
	return ""
}

// SysctlPath is the /proc/sys file of a sysctl name.
func SysctlPath(name string) (string, error) {
	if name == "" || strings.Contains(name, "/") || strings.Contains(name, "..") {
		return "", fmt.Errorf("bad sysctl name %q", name)
	}
	return "/proc/sys/" + strings.ReplaceAll(name, ".", "/"), nil
}
