package policy

// DefaultSensitivePaths are host paths whose bind mount hands a container
// the node: its configuration, kernel interfaces, runtime sockets and the
// state of kubelet, K3s and every common container runtime. A mount of one
// of them, of anything below it, or of a directory above it is sensitive.
var DefaultSensitivePaths = []HostPath{
	"/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/lib/modules",
	"/var/lib/kubelet", "/var/lib/rancher", "/run/k3s",
	"/var/lib/containerd", "/run/containerd",
	"/var/lib/docker", "/run/docker", "/run/docker.sock",
	"/var/lib/containers", "/run/crio",
	"/run/nri", "/run/nri-guard", // the guard's own pins, marks and status
	// What containerd runs as root on the node: NRI plugins and CNI plugins.
	"/opt/nri", "/opt/cni", "/etc/cni", "/var/spool/cron",
	// The guard's own state on the plain layout (its last good policy,
	// the user namespace pool); the K3s layout keeps it in /var/lib/rancher.
	"/var/lib/nri-guard",
	// Node daemons that do what root asks them: systemd's private manager
	// socket and the system bus (StartTransientUnit runs any command as
	// root for a uid 0 peer, which a container without a user namespace
	// is), the users' session buses and systemd --user instances, snapd,
	// root podman, libvirt, runc's own state, sudo's timestamps (red team:
	// a pod under the installed policy mounted /run/dbus and /run/systemd).
	"/run/systemd", "/run/dbus", "/run/user", "/run/snapd.socket", "/run/snapd-snap.socket",
	"/run/podman", "/run/libvirt", "/run/runc", "/run/sudo", "/var/lib/sudo",
	// Users' homes: a writable authorized_keys of a sudo user (cloud
	// images' default user has passwordless sudo) is a root login.
	"/home",
	// The sockets themselves, so a refusal of a parent directory names the
	// socket it would have exposed.
	"/run/k3s/containerd/containerd.sock", "/run/containerd/containerd.sock",
	"/run/crio/crio.sock",
}

// DefaultReadOnlyPaths may be mounted read-only (log shippers read them)
// but never writable: a writable /var/log lets a container forge or erase
// the node's audit trail and fill its disk.
//
// The node's programs and libraries are read-only paths too: pods mount
// /usr/share/zoneinfo or a host tool read-only, but a writable /usr/bin
// or /lib replaces what the node runs as root.
var DefaultReadOnlyPaths = []HostPath{"/var/log", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32"}

// SafeSysctls is the Kubernetes "safe" sysctl set (Pod Security Standards,
// baseline, up to v1.32): namespaced, and without effect on other pods.
var SafeSysctls = []Glob{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

// BaselineCapabilities are the capabilities the Pod Security Standards'
// baseline level allows: containerd's default set without CAP_NET_RAW.
var BaselineCapabilities = []Capability{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
	"CAP_SYS_CHROOT",
}

// DefaultGuardedHandlers is containerd's default runtime, the one whose
// BinaryName the runtime wrapper is set up as: "" is how CRI names it for
// a pod without a RuntimeClass, "runc" is its name in containerd's
// configuration (and the runc K3s and containerd configure by default).
// `nri-guard install k3s` writes the handlers it wrapped instead.
var DefaultGuardedHandlers = []RuntimeHandler{"", "runc"}

// defaults is the bottom layer under every policy: what a node gets from
// an empty NodePolicy.
func defaults() Document {
	return Document{
		DefaultMode: set(Enforce),
		Controls: Controls{
			HostNamespaces: HostNamespaces{Deny: set([]NamespaceType{"pid", "ipc", "network"})},
			HostMounts: HostMounts{
				Action:        set(MountRefuse),
				Paths:         set(DefaultSensitivePaths),
				ReadOnlyPaths: set(DefaultReadOnlyPaths),
				KubeletRoot:   set(HostPath("/var/lib/kubelet")),
				LocalStorage:  set(HostPath("/var/lib/rancher/k3s/storage")),
			},
			Devices:         Devices{Action: set(DeviceRefuse)},
			Seccomp:         Seccomp{Unconfined: set(SeccompInject), Localhost: set(LocalhostAllow), AllowProfiles: set([]ProfileDigest{})},
			Sysctls:         Sysctls{Allow: set(SafeSysctls)},
			Plugins:         Plugins{Allow: set([]PluginTrust{}), HookPaths: set([]HostPath{})},
			Capabilities:    Capabilities{Allow: set(BaselineCapabilities), Added: set(AddedRefuse)},
			ReadOnlyRoot:    ReadOnlyRoot{Action: set(Force), Scratch: set(DefaultScratch), ScratchSize: set(TmpfsSize("64m"))},
			NoNewPrivileges: NoNewPrivileges{Action: set(Force)},
			RunAsRoot:       RunAsRoot{Mode: set(Off), Action: set(RootRefuse), RootGroup: set(Allow)},
			UserNamespaces:  UserNamespaces{Mode: set(Off), Want: set(UserNSRequire), MinHostID: set(DefaultMinHostID)},
			HostPathVolumes: HostPathVolumes{Mode: set(Off)},
			RuntimeHandlers: RuntimeHandlers{Guarded: set(DefaultGuardedHandlers), Isolated: set([]RuntimeHandler{})},
			Images:          Images{SystemRegistries: set([]Registry{DockerHub})},
		},
	}
}

// DefaultScratch are the directories a forced read-only root keeps
// writable: where Debian and most images put what a running program
// writes (pid files and sockets, temporary files, caches, logs, state).
// The root's programs, libraries and configuration (/usr, /bin, /lib,
// /etc, /opt) stay read-only, and nothing written to a scratch directory
// can be executed directly (noexec; an interpreter can still read a
// script from there, as from any volume).
var DefaultScratch = []ContainerDir{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log", "/var/lib"}

// DefaultMinHostID is the lowest host id a user namespace may map: ids
// 0-65535 belong to the node's own users and files. kubelet allocates a
// pod's ids above that range by default ("By default, the kubelet
// assigns pods UIDs/GIDs above the range 0-65535, based on the
// assumption that the host's files and processes use UIDs/GIDs within
// this range", kubernetes.io/docs/concepts/workloads/pods/user-namespaces),
// in blocks of 65536 (pkg/kubelet/userns). containerd allocates nothing:
// it passes the mappings a CRI client sends in userns_options as they
// are, container root to host root included.
const DefaultMinHostID HostID = 65536
