package controls

import (
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// MountTypes judges every mount by what the kernel will make of it
// (view.Mount.Kind), whoever asked for it: the CRI client, the runtime's
// defaults or another NRI plugin. host-mounts and host-path-volumes judge
// the host paths that binds and overlays reach; this control judges the
// rest:
//   - a new proc or sysfs instance only at /proc or /sys: runc lays the
//     masked and read-only paths (/proc/kcore, /proc/sys, /sys/firmware)
//     over those places only, so a second instance elsewhere shows them
//     bare;
//   - devpts only at /dev/pts, and only with newinstance. Before Linux
//     4.7 a devpts mount without it "binds to the initial kernel mount
//     of devpts" (Documentation/filesystems/devpts.txt): the node's own
//     terminals, and its uid/gid/mode/ptmxmode options modify the node's
//     mount (why kernel commit ec2aa8e8dd7d lets a user namespace mount
//     devpts only with newinstance). From 4.7 on every mount is a new
//     instance, newinstance is accepted and ignored (commit
//     eedf265aa003; devpts.rst: "Each mount of the devpts filesystem is
//     now distinct"), and no option reaches the node's instance; only
//     kernel.pty.reserve is shared, and only with mounts made in the
//     initial mount namespace, which a container's never is;
//   - sysfs, cgroup and cgroup2 read-only, as the runtimes mount them for
//     every container that is not privileged (a pod sandbox, whose mounts
//     are containerd's alone, excepted; a writable sysfs lets root
//     set /sys/kernel/uevent_helper, a program the node runs), and cgroup
//     only at /sys/fs/cgroup with plain mount flags (a cgroup v1
//     release_agent option names a host program the kernel runs as root);
//   - tmpfs and mqueue anywhere: fresh memory, and the container's own
//     IPC namespace's queues;
//   - every other type refused: a block device's filesystem, a network
//     or FUSE filesystem, or a type nri-guard does not know, unless
//     mountTypes.allow lists it;
//   - a host path (bind source, overlay layer) that is not absolute: runc
//     reads it relative to the bundle directory, so it can reach another
//     container's files that no path rule names.
type MountTypes struct{}

func (MountTypes) Meta() Meta {
	return Meta{
		ID: "mount-types", Key: "mountTypes",
		Reads: "every mount's type, options and destination",
		Does:  "refuses a new `proc` outside `/proc`, `sysfs` outside `/sys`, `devpts` outside `/dev/pts` or without `newinstance`, cgroup outside `/sys/fs/cgroup` or with options beyond mount flags, a writable sysfs or cgroup in a container, a host path that is not absolute, an overlay (its layers are host paths the kernel resolves after the check; neither containerd nor kubelet puts one in a container's mounts), and every filesystem type other than bind, tmpfs, mqueue and those (ext4 on a device, nfs, fuse, 9p, unknown) unless `allow` lists it",
	}
}

func (MountTypes) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	mt := &s.MountTypes
	var out []Finding
	for _, m := range c.Mounts {
		if f, ok := judgeMountType(m, mt, c.Sandbox); ok {
			out = append(out, f)
		}
	}
	return out
}

// usualPlace is where the runtimes mount each kernel filesystem that
// is not allowed anywhere.
var usualPlace = map[view.MountKind]string{
	view.KindProc:   "/proc",
	view.KindSysfs:  "/sys",
	view.KindDevpts: "/dev/pts",
	view.KindCgroup: "/sys/fs/cgroup",
}

// whyUsualPlace says what a mount of each kind elsewhere would expose.
var whyUsualPlace = map[view.MountKind]string{
	view.KindProc:   "a new proc instance outside /proc, where the masked and read-only paths (/proc/kcore, /proc/sys, ...) are not laid over it",
	view.KindSysfs:  "a new sysfs instance outside /sys, where the masked paths (/sys/firmware, ...) are not laid over it",
	view.KindDevpts: "a devpts instance outside /dev/pts",
	view.KindCgroup: "a cgroup hierarchy outside /sys/fs/cgroup",
}

func judgeMountType(m view.Mount, mt *policy.MountTypes, sandbox bool) (Finding, bool) {
	f := Finding{
		Control: "mount-types", Field: "mounts[" + m.Destination + "].type", Value: typeName(m), By: m.AddedBy,
		Rule: "mountTypes.mode", Source: mt.Mode.Source, Verdict: Refuse,
	}
	kind := m.Kind()
	if kind == view.KindBind || kind == view.KindOverlay {
		if f, bad := relativeHostPath(m, f); bad || kind == view.KindBind {
			return f, bad
		}
	}
	if allowedType(m.Type, mt.Allow.Value) {
		return f, false
	}
	if kind == view.KindOverlay {
		// Neither containerd nor kubelet puts an overlay in a container's
		// mounts (the image's is the root, set up before): one comes from
		// another plugin or a hand-made spec. Its layers are host paths
		// the kernel resolves when it mounts them, after the check and
		// without the wrapper's pins, so a symlink in a layer directory
		// the workload can write reaches the node (found by the red team).
		f.Problem = "an overlay, whose layers the kernel resolves on the node when it mounts them, after nri-guard judged their paths"
		f.Rule, f.Source = "mountTypes.allow", mt.Allow.Source
		f.Fix = exceptionFix("mountTypes.allow: [overlay] (its layers are then judged as host paths, not pinned)")
		f.Grant = &policy.Grant{Key: "mountTypes.allow", Add: []string{"overlay"}}
		return f, true
	}
	f.Fix = exceptionFix("mountTypes.allow: [" + typeName(m) + "]")
	f.Grant = &policy.Grant{Key: "mountTypes.allow", Add: []string{typeName(m)}}
	switch kind {
	case view.KindTmpfs, view.KindMqueue:
		return f, false
	case view.KindOther:
		f.Problem = "a filesystem whose contents nri-guard cannot judge (a device's, the network's, a FUSE server's, or an unknown type)"
		f.Rule, f.Source = "mountTypes.allow", mt.Allow.Source
		return f, true
	}
	if dest := m.CleanDestination(); dest != usualPlace[kind] {
		f.Problem = whyUsualPlace[kind]
		return f, true
	}
	return kindOptions(m, kind, f, sandbox)
}

// kindOptions judges the options of a kernel filesystem at its place. A
// pod sandbox (the pause container) is spared the read-only rule: its
// mounts are containerd's alone (no CRI mounts, no NRI adjustment), a
// privileged pod's sandbox gets a writable sysfs, and the privileged pod
// itself is judged at its containers.
func kindOptions(m view.Mount, kind view.MountKind, f Finding, sandbox bool) (Finding, bool) {
	switch kind {
	case view.KindDevpts:
		if !m.HasOption("newinstance") {
			f.Field, f.Value = "mounts["+m.Destination+"].options", "["+strings.Join(m.Options, ", ")+"]"
			f.Problem = "devpts without newinstance: before Linux 4.7 it is the node's own instance, with the node's terminals"
			return f, true
		}
	case view.KindSysfs:
		if !m.ReadOnly() && !sandbox {
			return writableKernelFS(m, f, "a writable sysfs: root in the container could set /sys/kernel/uevent_helper, a program the node runs as root")
		}
	case view.KindCgroup:
		if !m.ReadOnly() && !sandbox {
			return writableKernelFS(m, f, "a writable cgroup hierarchy: the container could lift its own limits (and, on cgroup v1 with CAP_SYS_ADMIN, its device rules)")
		}
		for _, o := range m.DataOptions() {
			if !plainMountFlags[o] {
				f.Field, f.Value = "mounts["+m.Destination+"].options", o
				f.Problem = "a cgroup option other than plain mount flags (release_agent names a program the node runs as root)"
				return f, true
			}
		}
	}
	return f, false
}

// writableKernelFS refuses a sysfs or cgroup mount without ro: the
// runtimes mount both read-only for every container that is not
// privileged (and the privileged control refuses those).
func writableKernelFS(m view.Mount, f Finding, problem string) (Finding, bool) {
	f.Field, f.Value = "mounts["+m.Destination+"].options", "["+strings.Join(m.Options, ", ")+"]"
	f.Problem = problem
	return f, true
}

// plainMountFlags are the options runc turns into mount(2) flags or
// propagation; none of them names anything on the node.
var plainMountFlags = map[string]bool{}

func init() {
	for _, o := range strings.Fields(`ro rw suid nosuid dev nodev exec noexec sync async dirsync
		mand nomand atime noatime diratime nodiratime relatime norelatime strictatime nostrictatime
		lazytime nolazytime silent loud nosymfollow symfollow
		private rprivate shared rshared slave rslave unbindable runbindable`) {
		plainMountFlags[o] = true
	}
}

// relativeHostPath refuses a bind or overlay whose host path is not
// absolute; the path itself is host-mounts' to judge.
func relativeHostPath(m view.Mount, f Finding) (Finding, bool) {
	for _, hp := range m.HostPaths() {
		if strings.HasPrefix(hp.Path, "/") {
			continue
		}
		f.Field, f.Value = hostPathField(m, hp), hp.Path
		f.Problem = "a host path that is not absolute: the runtime reads it relative to its own working directory (the bundle), which no path rule covers"
		f.Fix = "give the host path in full"
		return f, true
	}
	return f, false
}

// hostPathField names where a host path sits in the mount:
// mounts[/x].source, or mounts[/x].options[lowerdir] for an overlay layer.
func hostPathField(m view.Mount, hp view.MountHostPath) string {
	if hp.Field == "source" {
		return "mounts[" + m.Destination + "].source"
	}
	return "mounts[" + m.Destination + "].options[" + hp.Field + "]"
}

func typeName(m view.Mount) string {
	if m.Type == "" {
		return `""`
	}
	return m.Type
}

func allowedType(typ string, allow []policy.Glob) bool {
	for _, g := range allow {
		if g.Match(typ) {
			return true
		}
	}
	return false
}
