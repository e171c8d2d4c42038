package wrapper

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/idpool"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/runcstate"
	"github.com/nri-guard/nri-guard/internal/userns"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sweepAge is how old a pool entry must be before the sweep may take it
// back: younger ones may belong to a sandbox runc is still creating.
const sweepAge = 2 * time.Minute

// enterUserNamespace moves the container into its pod's user namespace.
// The sandbox gets a new one with a range from the pool, and the pod's
// containers join it. A container remapped in a pod whose sandbox runs
// in the node's user namespace gets a namespace of its own with the pod's
// range, so every remapped container of a pod has the same ids on disk.
func enterUserNamespace(cfg Config, inv invocation, bundle string, spec *specs.Spec, c *view.Container, l lifetime) error {
	start, fresh, err := enterPodNamespace(cfg, runcRoot(inv), spec, c)
	if err != nil {
		return err
	}
	if err := prepareNamespace(cfg, bundle, spec, c, l, start); err != nil {
		if fresh && c.Sandbox {
			// Refused: runc never makes this sandbox, so no delete will
			// return its range; without this, a CRI client's refused
			// sandboxes would hold the pool until the sweep.
			releaseRange(cfg.UserNamespacePool, c.ID)
		}
		return err
	}
	return nil
}

// prepareNamespace is what runc needs of the node for a container in the
// user namespace whose root is host id start: volumes it can mount, a
// bundle and stdio it can open, the pod's net sysctls, mount targets.
func prepareNamespace(cfg Config, bundle string, spec *specs.Spec, c *view.Container, l lifetime, start uint32) error {
	if err := settleIDMaps(cfg, spec, c, l); err != nil {
		return err
	}
	if err := openBundle(bundle, start); err != nil {
		return err
	}
	if err := ownStdio(start, 0, 1, 2); err != nil {
		return err
	}
	if err := userns.WriteNetSysctls(userns.NamespacePath(spec, specs.NetworkNamespace), userns.TakeNetSysctls(spec)); err != nil {
		return err
	}
	return userns.MountTargets(rootfsPath(bundle, spec), spec.Mounts)
}

func releaseRange(cfg idpool.Config, owner string) {
	if p, err := idpool.Open(cfg); err == nil {
		p.Release(owner)
		p.Close()
	}
}

// userNamespaceRefusal says why a container the policy moves into a user
// namespace could not be moved, naming the rule that asked for it and
// the exception that would let it run in the node's user namespace.
func userNamespaceRefusal(c *view.Container, d *engine.Decision, err error) string {
	var rules []string
	for _, f := range d.Findings {
		if f.Rewrite != nil && f.Rewrite.Kind == view.SetUserNamespace && f.Mode == policy.Enforce {
			rules = append(rules, fmt.Sprintf("%s (%s)", f.Rule, f.Source))
		}
	}
	return fmt.Sprintf("nri-guard-runc: refused: %s: linux.namespaces.user: cannot be given a user namespace, as %s asks: %s; "+
		"to run it in the node's user namespace, add an exception for this pod that sets userNamespaces.mode: off or runAsRoot.mode: off",
		engine.WorkloadName(c), strings.Join(rules, " and "), oneLine(err.Error()))
}

// enterPodNamespace gives the sandbox the pod's new namespace; a
// container joins the sandbox's or, when it has none, gets one of its own
// with the pod's range. It returns the host id of uid and gid 0 inside.
func enterPodNamespace(cfg Config, root string, spec *specs.Spec, c *view.Container) (uint32, bool, error) {
	if c.Sandbox {
		return ownNamespace(cfg, root, spec, c, c.ID, false)
	}
	if c.Pod.ID == "" {
		return 0, false, fmt.Errorf("the container names no pod sandbox (annotation %s), so it has no pod user namespace to join", view.AnnotationSandboxID)
	}
	pid, err := initPID(root, c.Pod.ID)
	if err != nil {
		return 0, false, fmt.Errorf("cannot find the pod sandbox %s: %w", c.Pod.ID, err)
	}
	procDir := "/proc/" + strconv.Itoa(pid)
	if _, err := os.Stat(procDir + "/ns/user"); err != nil {
		return 0, false, fmt.Errorf("the pod sandbox's user namespace: %w", err)
	}
	if !view.HostNamespaceChecker()("user", procDir+"/ns/user") {
		start, err := hostIDOfRoot(procDir + "/gid_map")
		if err != nil {
			return 0, false, err
		}
		userns.Join(spec, procDir+"/ns/user")
		return start, false, nil
	}
	if userns.NamespacePath(spec, specs.PIDNamespace) != "" {
		// The sandbox's pid namespace (shareProcessNamespace) belongs to
		// the node's user namespace: runc could not mount /proc for it.
		return 0, false, fmt.Errorf("it shares the pod's process namespace (shareProcessNamespace), whose sandbox runs in the node's user namespace; give the whole pod one (userNamespaces want: enable, or hostUsers: false)")
	}
	return ownNamespace(cfg, root, spec, c, c.Pod.ID, true)
}

// ownNamespace gives the container a new user namespace with the range
// owner (the pod sandbox's ID) holds. joinsNodeOwnedIPC: see userns.Own.
func ownNamespace(cfg Config, root string, spec *specs.Spec, c *view.Container, owner string, joinsNodeOwnedIPC bool) (uint32, bool, error) {
	r, fresh, err := allocate(cfg.UserNamespacePool, owner, root, c)
	if err != nil {
		return 0, false, err
	}
	userns.Own(spec, r.Start, joinsNodeOwnedIPC)
	return r.Start, fresh, nil
}

// hostIDOfRoot reads which host id a namespace's id 0 maps to.
func hostIDOfRoot(mapPath string) (uint32, error) {
	data, err := os.ReadFile(mapPath)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "0" {
			id, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(id), err
		}
	}
	return 0, fmt.Errorf("%s maps no id 0", mapPath)
}

// openBundle lets the namespace's root reach the root filesystem below
// the bundle directory, which containerd made 0700 for the node's root:
// group of the namespace's root gid and 0710, as containerd itself does
// for pods that asked for a user namespace.
func openBundle(bundle string, gid uint32) error {
	if err := os.Chown(bundle, -1, int(gid)); err != nil {
		return err
	}
	return os.Chmod(bundle, 0o710)
}

// ownStdio gives the container's stdio pipes to the namespace's root, as
// containerd does for a pod that asked for a user namespace (its shim
// makes them for that root): the wrapper holds the shim's pipes as its
// own 0-2 and hands them to runc. A program that opens /dev/stdout
// (nginx's access_log) reopens the pipe by its path, which a root whose
// ids the node's root owns cannot. Only anonymous pipes the node's root
// owns change owner: never a terminal, a named fifo or a file of the
// node's.
func ownStdio(id uint32, fds ...int) error {
	for _, fd := range fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Uid != 0 {
			continue
		}
		// An anonymous pipe, never a named fifo on a file system of the
		// node's.
		var fs unix.Statfs_t
		if err := unix.Fstatfs(fd, &fs); err != nil || fs.Type != unix.PIPEFS_MAGIC {
			continue
		}
		if err := unix.Fchown(fd, int(id), int(id)); err != nil {
			return fmt.Errorf("cannot give the container's stdio (fd %d) to the namespace's root: %w", fd, err)
		}
	}
	return nil
}

// allocate takes owner's range from the pool, first sweeping ranges whose
// sandbox is gone without a delete reaching the wrapper.
func allocate(cfg idpool.Config, owner, root string, c *view.Container) (idpool.Range, bool, error) {
	p, err := idpool.Open(cfg)
	if err != nil {
		return idpool.Range{}, false, fmt.Errorf("user namespace id pool: %w", err)
	}
	defer p.Close()
	now := time.Now()
	if _, err := p.Sweep(sweepAge, now, sandboxGone); err != nil {
		return idpool.Range{}, false, fmt.Errorf("user namespace id pool: %w", err)
	}
	_, held := p.Lookup(owner)
	r, err := p.Allocate(owner, root, c.Pod.Namespace+"/"+c.Pod.Name, now)
	return r, !held, err
}

// sandboxGone reports whether nothing of the pod is left under the
// entry's runc root: neither the sandbox nor a container that names it.
// A container can outlive its sandbox (pause killed while the pod's
// containers finish their grace period) and still runs with the ids.
func sandboxGone(e idpool.Entry) bool {
	if e.Root == "" {
		return false
	}
	if _, err := os.Stat(filepath.Join(e.Root, e.Owner)); !os.IsNotExist(err) {
		return false
	}
	return !podContainersLeft(e.Root, e.Owner)
}

// podContainersLeft reports whether a container under root belongs to
// the sandbox: runc keeps a container's annotations as "key=value"
// labels in its state, containerd's sandbox-id among them. A state it
// cannot read counts as the pod's: better a range kept than shared.
func podContainersLeft(root, sandboxID string) bool {
	entries, err := os.ReadDir(root)
	if err != nil {
		return !os.IsNotExist(err)
	}
	label := view.AnnotationSandboxID + "=" + sandboxID
	for _, ent := range entries {
		if ent.Name() == sandboxID || !ent.IsDir() {
			continue
		}
		st, err := runcstate.Read(root, ent.Name())
		if err != nil && !os.IsNotExist(err) {
			return true
		}
		if slices.Contains(st.Config.Labels, label) {
			return true
		}
	}
	return false
}

// releaseOnDelete removes the container's pins (pin.go), runs `runc
// delete` and, once it succeeded, returns the pod's range to the pool.
// It reports false when the container holds no range, so the caller
// execs runc as for any other verb.
func releaseOnDelete(cfg Config, inv invocation, run func() int) (int, bool) {
	id := inv.containerID()
	// The container's pinned mount sources go first: runc delete does
	// not need them, and the container holds its own copies.
	releasePins(id)
	if _, err := os.Stat(cfg.UserNamespacePool.State); err != nil {
		return 0, false // no pod ever got a range: nothing to open or create
	}
	p, err := idpool.Open(cfg.UserNamespacePool)
	if err != nil {
		return 0, false
	}
	_, held := p.Lookup(id)
	p.Close()
	if !held {
		return 0, false
	}
	code := run()
	if code != 0 || podContainersLeft(runcRoot(inv), id) {
		return code, true // the sweep returns it once the last container is gone
	}
	if p, err = idpool.Open(cfg.UserNamespacePool); err == nil {
		p.Release(id)
		p.Close()
	}
	return code, true
}

func runcRoot(inv invocation) string {
	if root := inv.global("root"); root != "" {
		return root
	}
	return "/run/runc"
}

func rootfsPath(bundle string, spec *specs.Spec) string {
	if spec.Root == nil || spec.Root.Path == "" {
		return filepath.Join(bundle, "rootfs")
	}
	if filepath.IsAbs(spec.Root.Path) {
		return spec.Root.Path
	}
	return filepath.Join(bundle, spec.Root.Path)
}

func initPID(root, id string) (int, error) {
	st, err := runcstate.Read(root, id)
	if err != nil {
		return 0, err
	}
	if st.InitPID <= 0 {
		return 0, fmt.Errorf("runc state of %s has no process", id)
	}
	start, err := runcstate.ProcessStart(st.InitPID)
	if err != nil || start != st.InitStart {
		return 0, fmt.Errorf("the process %d of %s is gone (its pid may belong to another process now)", st.InitPID, id)
	}
	return st.InitPID, nil
}
