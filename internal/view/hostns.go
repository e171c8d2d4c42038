package view

import (
	"os"
	"strings"
	"syscall"
)

// IsHostNamespace reports whether a namespace entry joins one of the
// node's own namespaces; check compares paths (nil: only /proc/1/ns/*).
func IsHostNamespace(check func(nsType, path string) bool, nsType, path string) bool {
	if path == "" {
		return false // a new namespace of its own
	}
	if check != nil {
		return check(nsType, path)
	}
	return IsInitNamespacePath(path)
}

// IsInitNamespacePath reports whether path names a namespace of PID 1,
// which is the node's own (pods get namespaces of their sandbox's pid).
func IsInitNamespacePath(path string) bool {
	return strings.HasPrefix(path, "/proc/1/ns/")
}

// HostNamespaceChecker returns a checker that compares a namespace path's
// inode with that of the node's own namespace of the same type, so a
// path like /proc/<pid of a host process>/ns/net is recognised too. It
// must run in the host's namespaces, as the NRI plugin does.
func HostNamespaceChecker() func(nsType, path string) bool {
	return func(nsType, path string) bool {
		if IsInitNamespacePath(path) {
			return true
		}
		host, ok := nsInode("/proc/1/ns/" + procNSName(nsType))
		if !ok {
			// PID 1's namespaces can be unreadable (a hardened /proc);
			// nri-guard itself runs in the node's namespaces, as a
			// containerd child or a host service, so its own will do.
			if host, ok = nsInode("/proc/self/ns/" + procNSName(nsType)); !ok {
				return false
			}
		}
		have, ok := nsInode(path)
		return ok && have == host
	}
}

// procNSName maps OCI namespace types to their /proc/<pid>/ns names.
func procNSName(nsType string) string {
	switch nsType {
	case "network":
		return "net"
	case "mount":
		return "mnt"
	}
	return nsType
}

func nsInode(path string) (uint64, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Ino, true
}
