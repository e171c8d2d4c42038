package kubepod

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// kubeletIDMappings are the mappings kubelet gives a pod with hostUsers:
// false, as a node would see them: kubelet picks a block of 65536 ids
// above the node's own 0-65535; which block is not known offline, so the
// first one stands for it.
var kubeletIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 65536, Size: 65536}}

// setUserNamespaceIDs writes kubelet's mappings into a spec of a pod
// with hostUsers: false (sandbox and containers alike: containerd writes
// them into both).
func setUserNamespaceIDs(ps *podSpec, lnx *specs.Linux) {
	if ps.HostUsers != nil && !*ps.HostUsers {
		lnx.UIDMappings, lnx.GIDMappings = slices.Clone(kubeletIDMappings), slices.Clone(kubeletIDMappings)
	}
}
