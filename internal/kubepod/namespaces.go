package kubepod

import specs "github.com/opencontainers/runtime-spec/specs-go"

// sandboxNS is the path of one of the sandbox's namespaces, which every
// container of the pod joins.
func sandboxNS(t specs.LinuxNamespaceType) specs.LinuxNamespace {
	name := string(t)
	switch t {
	case specs.NetworkNamespace:
		name = "net"
	case specs.MountNamespace:
		name = "mnt"
	}
	return specs.LinuxNamespace{Type: t, Path: "/proc/" + sandboxPID + "/ns/" + name}
}

// containerNamespaces: the host's namespaces are the absent entries, as
// containerd writes them. The UTS namespace follows the network one.
func containerNamespaces(ps *podSpec) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace}}
	switch {
	case ps.HostPID:
	case isTrue(ps.ShareProcessNamespace):
		ns = append(ns, sandboxNS(specs.PIDNamespace))
	default:
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if !ps.HostIPC {
		ns = append(ns, sandboxNS(specs.IPCNamespace))
	}
	if !ps.HostNetwork {
		ns = append(ns, sandboxNS(specs.NetworkNamespace), sandboxNS(specs.UTSNamespace))
	}
	if ps.HostUsers != nil && !*ps.HostUsers {
		ns = append(ns, sandboxNS(specs.UserNamespace))
	}
	return ns
}

// sandboxNamespaces: the sandbox creates the pod's namespaces.
func sandboxNamespaces(ps *podSpec) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace}}
	if !ps.HostPID {
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if !ps.HostIPC {
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace})
	}
	if !ps.HostNetwork {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-offline"},
			specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	if ps.HostUsers != nil && !*ps.HostUsers {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	return ns
}
