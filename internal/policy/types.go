package policy

// APIVersion and Kind identify a node policy document. A new incompatible
// schema gets a new APIVersion; old documents keep loading under the old one.
const (
	APIVersion = "nri-guard.io/v1alpha1"
	Kind       = "NodePolicy"
)

// Document is one policy file as written: the base file or a drop-in.
type Document struct {
	APIVersion  string        `yaml:"apiVersion"`
	Kind        string        `yaml:"kind"`
	DefaultMode Setting[Mode] `yaml:"defaultMode"`
	// Presets names shipped policies (profiles/policy/NAME.yaml) laid
	// under every file, in order: the built-in defaults, then the presets,
	// then the base file and the drop-ins.
	Presets    []PresetName `yaml:"presets"`
	Controls   Controls     `yaml:"controls"`
	Exceptions []Exception  `yaml:"exceptions"`
}

// Controls holds the settings of every control. Each field's YAML key is
// the control's policy key; its first field is always Mode.
type Controls struct {
	HostNamespaces HostNamespaces `yaml:"hostNamespaces"`
	HostMounts     HostMounts     `yaml:"hostMounts"`
	Devices        Devices        `yaml:"devices"`
	Seccomp        Seccomp        `yaml:"seccomp"`
	Sysctls        Sysctls        `yaml:"sysctls"`
	Images         Images         `yaml:"images"`
	Plugins        Plugins        `yaml:"plugins"`
	// The controls below read what only the whole OCI spec shows; the
	// runtime wrapper and the offline check serve them, NRI cannot.
	Capabilities    Capabilities    `yaml:"capabilities"`
	Privileged      Privileged      `yaml:"privileged"`
	ReadOnlyRoot    ReadOnlyRoot    `yaml:"readOnlyRootFilesystem"`
	NoNewPrivileges NoNewPrivileges `yaml:"noNewPrivileges"`
	WorkingDir      WorkingDir      `yaml:"workingDirectory"`
	MaskedPaths     MaskedPaths     `yaml:"maskedPaths"`
	RunAsRoot       RunAsRoot       `yaml:"runAsRoot"`
	LSM             LSM             `yaml:"lsm"`
	UserNamespaces  UserNamespaces  `yaml:"userNamespaces"`
	HostPathVolumes HostPathVolumes `yaml:"hostPathVolumes"`
	MountTypes      MountTypes      `yaml:"mountTypes"`
	RuntimeHandlers RuntimeHandlers `yaml:"runtimeHandlers"`
}

// HostNamespaces refuses containers that share the node's namespaces.
type HostNamespaces struct {
	Mode Setting[Mode]            `yaml:"mode"`
	Deny Setting[[]NamespaceType] `yaml:"deny"`
}

// HostMounts guards bind mounts of sensitive host paths.
type HostMounts struct {
	Mode   Setting[Mode]        `yaml:"mode"`
	Action Setting[MountAction] `yaml:"action"`
	// Paths replaces the built-in list of sensitive host paths.
	Paths Setting[[]HostPath] `yaml:"paths"`
	// ExtraPaths adds to Paths, so a node can extend the list without
	// restating it.
	ExtraPaths Setting[[]HostPath] `yaml:"extraPaths"`
	// ReadOnlyPaths may be mounted read-only but never writable.
	ReadOnlyPaths Setting[[]HostPath] `yaml:"readOnlyPaths"`
	// Allow names host paths (and what is below them) that are allowed
	// even though they are sensitive: meant for exceptions.
	Allow Setting[[]HostPath] `yaml:"allow"`
	// KubeletRoot is kubelet's --root-dir; a pod's own volumes below it are
	// not host mounts in the dangerous sense.
	KubeletRoot Setting[HostPath] `yaml:"kubeletRoot"`
	// LocalStorage is K3s's local-path provisioner directory
	// (--default-local-storage-path). Its volume directories are named
	// pvc-<uid>_<namespace>_<claim>: a pod may mount those of its own
	// namespace, which is what a PersistentVolumeClaim on K3s's default
	// StorageClass turns into. A node without local-path storage may
	// point it at a directory that does not exist.
	LocalStorage Setting[HostPath] `yaml:"localStorage"`
}

// Devices guards host devices given to a container.
type Devices struct {
	Mode   Setting[Mode]         `yaml:"mode"`
	Action Setting[DeviceAction] `yaml:"action"`
	Allow  Setting[[]Glob]       `yaml:"allow"`
}

// Seccomp makes sure every container runs under a seccomp filter.
type Seccomp struct {
	Mode       Setting[Mode]          `yaml:"mode"`
	Unconfined Setting[SeccompAction] `yaml:"unconfined"`
	Localhost  Setting[LocalhostMode] `yaml:"localhost"`
	// Profile is the JSON profile injected; empty means the built-in
	// default from profiles/seccomp/default.json.
	Profile Setting[HostPath] `yaml:"profile"`
	// AllowProfiles names filters (by digest) that localhost: confining
	// allows although they let calls of the minimum set through.
	AllowProfiles Setting[[]ProfileDigest] `yaml:"allowProfiles"`
}

// Sysctls allows only listed sysctls.
type Sysctls struct {
	Mode  Setting[Mode]   `yaml:"mode"`
	Allow Setting[[]Glob] `yaml:"allow"`
}

// Images allows and denies image references by pattern (ImagePattern:
// registry, repository, tag and digest matched part by part).
type Images struct {
	Mode  Setting[Mode]           `yaml:"mode"`
	Allow Setting[[]ImagePattern] `yaml:"allow"`
	Deny  Setting[[]ImagePattern] `yaml:"deny"`
	// SystemRegistries are the registries an image pattern without one
	// stands for, here and in exceptions' match.images: the node's own
	// (K3s's --system-default-registry). A node setting: exceptions may
	// not change it.
	SystemRegistries Setting[[]Registry] `yaml:"systemRegistries"`
}

// Plugins judges what other NRI plugins did to a container (validation).
type Plugins struct {
	Mode Setting[Mode] `yaml:"mode"`
	// AllowHooksFrom names plugins trusted to add OCI hooks, which run as
	// root on the host.
	AllowHooksFrom Setting[[]string] `yaml:"allowHooksFrom"`
	// Allow trusts named plugins to change field kinds nri-guard has no
	// rule of its own for (see PluginField); every other plugin's change
	// of such a field is refused.
	Allow Setting[[]PluginTrust] `yaml:"allow"`
	// HookPaths lists the OCI hooks (by executable path) that may run for
	// a container, whoever put them in its spec: a plugin, a CDI device or
	// the runtime's base spec.
	HookPaths Setting[[]HostPath] `yaml:"hookPaths"`
}

// Capabilities keeps every capability set within an allowlist.
type Capabilities struct {
	Mode  Setting[Mode]         `yaml:"mode"`
	Allow Setting[[]Capability] `yaml:"allow"`
	// Added says what enforce does with a capability outside the allowlist
	// that the runtime does not grant by default, i.e. that the workload
	// asked for: drop it like the others, or refuse the container.
	Added Setting[AddedCapAction] `yaml:"added"`
}

// Privileged refuses privileged containers, recognised from the spec.
type Privileged struct {
	Mode Setting[Mode] `yaml:"mode"`
}

// ReadOnlyRoot makes the root filesystem read-only.
type ReadOnlyRoot struct {
	Mode   Setting[Mode]        `yaml:"mode"`
	Action Setting[ForceAction] `yaml:"action"`
	// Scratch lists the directories a forced read-only root keeps
	// writable: each gets a tmpfs of its own with the image's contents
	// copied in (runc's tmpcopyup), mounted nosuid, nodev and noexec, so
	// programs that write their pid file, cache or log keep working while
	// the programs and libraries stay read-only. A directory a volume
	// already covers (the volume or one above it) is left to the volume.
	Scratch Setting[[]ContainerDir] `yaml:"scratch"`
	// ScratchSize bounds each scratch tmpfs (tmpfs's size=: bytes with
	// an optional k, m or g, or a percentage of the node's memory). What
	// a container writes there is also charged to its memory limit.
	ScratchSize Setting[TmpfsSize] `yaml:"scratchSize"`
}

// NoNewPrivileges sets no_new_privs, so setuid binaries cannot raise
// privileges.
type NoNewPrivileges struct {
	Mode   Setting[Mode]        `yaml:"mode"`
	Action Setting[ForceAction] `yaml:"action"`
}

// WorkingDir refuses working directories that reach a host file
// descriptor (the CVE-2024-21626 shape).
type WorkingDir struct {
	Mode Setting[Mode] `yaml:"mode"`
}

// MaskedPaths restores the runtime's masked and read-only /proc and /sys
// paths when a spec strips them (procMount: Unmasked).
type MaskedPaths struct {
	Mode Setting[Mode] `yaml:"mode"`
}

// RunAsRoot refuses processes that run as uid 0 outside a user
// namespace, or remaps them into one. Off by default: most images still
// run as root.
type RunAsRoot struct {
	Mode   Setting[Mode]       `yaml:"mode"`
	Action Setting[RootAction] `yaml:"action"`
	// RootGroup: "refuse" counts gid 0 and a supplementary group 0 as
	// root too (a root-group process opens the node's root:root 0660
	// files, containerd's socket among them); "allow" (the default)
	// judges the uid only.
	RootGroup Setting[Permission] `yaml:"rootGroup"`
}

// LSM refuses containers that opt out of the node's AppArmor or SELinux
// confinement.
type LSM struct {
	Mode Setting[Mode] `yaml:"mode"`
	// SELinuxTypes, when set, lists the SELinux types a process may run
	// as (the Pod Security Standards allow container_t, container_init_t,
	// container_kvm_t, container_engine_t); unset, only the unconfined
	// types are refused.
	SELinuxTypes Setting[[]Glob] `yaml:"selinuxTypes"`
	// SELinuxUsers and SELinuxRoles, when set, list the SELinux users and
	// roles a process may run as. The Standard forbids setting either, so
	// the presets allow only what containerd fills in by default
	// (system_u, system_r, from the node's container context).
	SELinuxUsers Setting[[]Glob] `yaml:"selinuxUsers"`
	SELinuxRoles Setting[[]Glob] `yaml:"selinuxRoles"`
}

// UserNamespaces makes a user namespace the node's rule: uid 0 in a pod
// then maps to an unprivileged node uid. Off by default.
type UserNamespaces struct {
	Mode Setting[Mode] `yaml:"mode"`
	// Want is what enforce asks of a pod: "require" refuses a pod in the
	// node's user namespace, "enable" gives it one.
	Want Setting[UserNSWant] `yaml:"want"`
	// MinHostID is the lowest host id a user namespace may map for it to
	// count as one (runAsRoot, require, the Standard's "root only in a
	// user namespace"): below it are the node's own users, and host id 0
	// never counts. It applies in every mode, as a user namespace is
	// trusted wherever it is found.
	MinHostID Setting[HostID] `yaml:"minHostID"`
}

// HostPathVolumes refuses every bind mount of a host path that is not the
// pod's own (kubelet's volume directories, containerd's per-sandbox
// files): the Pod Security Standards' "HostPath Volumes" as the node sees
// it. Off by default; the baseline and restricted presets turn it on.
type HostPathVolumes struct {
	Mode Setting[Mode] `yaml:"mode"`
	// Allow names host paths (and what is below them) that may be
	// mounted: meant for exceptions.
	Allow Setting[[]HostPath] `yaml:"allow"`
}

// MountTypes judges every mount by what the kernel makes of it, not by
// what the spec calls it: a new proc or sysfs only at its usual place
// (elsewhere it would lack the masked and read-only paths), devpts only
// as a new instance at /dev/pts, cgroup only at /sys/fs/cgroup, and no
// filesystem nri-guard cannot tell the contents of (ext4 on a device,
// nfs, fuse, 9p, an unknown type). Binds and overlays are judged by the
// host paths they reach (hostMounts, hostPathVolumes); this control only
// refuses a host path that is not absolute.
type MountTypes struct {
	Mode Setting[Mode] `yaml:"mode"`
	// Allow lists filesystem types (globs: nfs4, fuse.*) that may be
	// mounted wherever and however a mount asks: meant for exceptions.
	Allow Setting[[]Glob] `yaml:"allow"`
}

// RuntimeHandlers names the runtime handlers (containerd runtimes, the
// pods' RuntimeClass handlers) a pod may run under. Only a handler whose
// binary is nri-guard's runtime wrapper gets the full-spec controls; a pod
// of any other handler would meet none of them, so it is refused unless
// the policy trusts that handler to isolate by other means.
type RuntimeHandlers struct {
	Mode Setting[Mode] `yaml:"mode"`
	// Guarded lists the handlers whose binary is the runtime wrapper; ""
	// is containerd's default runtime (a pod without runtimeClassName).
	Guarded Setting[[]RuntimeHandler] `yaml:"guarded"`
	// Isolated lists handlers trusted to isolate by other means (a VM:
	// kata; a user-space kernel: gVisor's runsc). Their pods are let
	// through without the full-spec controls, and the decision log says so.
	Isolated Setting[[]RuntimeHandler] `yaml:"isolated"`
}

// Exception gives matching workloads different control settings.
type Exception struct {
	Name     string   `yaml:"name"`
	Match    Match    `yaml:"match"`
	Controls Controls `yaml:"controls"`
	// Source is where the exception starts; set while loading.
	Source Source `yaml:"-"`
}

// Match selects workloads. Every field that is given must match (AND); a
// list matches when any of its globs does (OR).
type Match struct {
	Namespaces []Glob          `yaml:"namespaces"`
	Pods       []Glob          `yaml:"pods"`
	Containers []Glob          `yaml:"containers"`
	Images     []ImagePattern  `yaml:"images"`
	Labels     map[string]Glob `yaml:"labels"`
	// Args pins the process's command line (the OCI process.args, as NRI
	// and the runtime wrapper see it): one list per allowed command line,
	// one anchored glob per argument, same length.
	Args [][]Glob `yaml:"args"`
}
