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

// Images allows and denies image references by glob.
type Images struct {
	Mode  Setting[Mode]   `yaml:"mode"`
	Allow Setting[[]Glob] `yaml:"allow"`
	Deny  Setting[[]Glob] `yaml:"deny"`
}

// Plugins judges what other NRI plugins did to a container (validation).
type Plugins struct {
	Mode Setting[Mode] `yaml:"mode"`
	// AllowHooksFrom names plugins trusted to add OCI hooks, which run as
	// root on the host.
	AllowHooksFrom Setting[[]string] `yaml:"allowHooksFrom"`
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
	Images     []Glob          `yaml:"images"`
	Labels     map[string]Glob `yaml:"labels"`
}
