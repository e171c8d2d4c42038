package wrapper

// Pinned mount sources: what runc mounts is what the guard judged.
//
// A bind mount's source is a path, and runc resolves it again when it
// mounts it, after the guard has judged it. A workload that can write a
// directory on the way (its own volume, an emptyDir, a hostPath it is
// allowed) can swap it for a symlink to / in between, and another pod's
// container then gets the node's root. So the wrapper opens each bind
// source once, judges the path that open file really is (as the kernel
// names it), and bind-mounts that very file onto a guard-owned path,
// which it hands runc as the mount's source. A later swap of the
// original path changes nothing: the pin is the judged directory or file.
//
// The NRI plugin still judges the path strings it is shown; the
// wrapper's verdict on the pinned paths is the one that counts.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// pinRoot holds one directory per container with its pinned sources. It
// is a mount of its own with private propagation, so that no pin ever
// shows up in another mount namespace that shares /run with the node's.
// A variable so that tests can move it.
var pinRoot = layout.Node().Pins

// pinning is off only in benchmarks, which measure what it costs.
var pinning = true

// pinStateLink names, inside a container's pin directory, a symlink to
// runc's state directory of the container: while it resolves, runc knows
// the container and its pins stay.
const pinStateLink = "state"

// validID is runc's own rule for container IDs (letters, digits and
// _+.-), without "." and "..": anything else cannot name a pin directory.
func validID(id string) bool {
	if id == "" || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+.-", r)) {
			return false
		}
	}
	return true
}

// sources are a spec's bind mount sources, open. fds[i] belongs to
// spec.Mounts[i]; -1 for mounts that are not binds.
type sources struct {
	fds   []int
	isDir []bool
}

// openSources opens every bind mount's source and replaces it in the
// spec by the path the open file really names, so the engine judges
// that path. A source that cannot be opened, or whose name cannot be
// told, refuses the container (the returned error says which).
func openSources(spec *specs.Spec, bundle string) (*sources, error) {
	s := &sources{fds: make([]int, len(spec.Mounts)), isDir: make([]bool, len(spec.Mounts))}
	for i := range spec.Mounts {
		s.fds[i] = -1
	}
	if !pinning {
		return s, nil
	}
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		if !view.IsBindMount(m.Type, m.Options) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src) // runc resolves it from the bundle
		}
		fd, real, dir, err := openSource(src)
		if err == nil && underPinRoot(real) {
			unix.Close(fd)
			err = fmt.Errorf("is %s, the pin of another container's mount: no container may mount another's pins, whatever the policy allows", real)
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("mounts[%s].source = %s: %w", m.Destination, m.Source, err)
		}
		s.fds[i], s.isDir[i] = fd, dir
		m.Source = real
	}
	return s, nil
}

// openSource opens path as an O_PATH handle and returns what it names.
// The kernel follows ordinary symlinks in one step (a symlink swapped in
// before is judged as its target), never /proc's magic links, which can
// name files of another mount namespace by a misleading path.
func openSource(path string) (fd int, real string, dir bool, err error) {
	fd, err = unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_MAGICLINKS})
	if errors.Is(err, unix.ENOSYS) {
		return openSourceOldKernel(path)
	}
	if err != nil {
		return -1, "", false, fmt.Errorf("cannot open it: %w", err)
	}
	real, dir, err = describe(fd)
	if err != nil {
		unix.Close(fd)
		return -1, "", false, err
	}
	return fd, real, dir, nil
}

// openSourceOldKernel is openSource before Linux 5.6 (no openat2): the
// path is resolved in user space, opened without following a last
// symlink, and the open file must be what was resolved; a change in
// between refuses the container.
func openSourceOldKernel(path string) (int, string, bool, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return -1, "", false, fmt.Errorf("cannot resolve it: %w", err)
	}
	fd, err := unix.Open(resolved, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, "", false, fmt.Errorf("cannot open it: %w", err)
	}
	real, dir, err := describe(fd)
	if err == nil && real != resolved {
		err = fmt.Errorf("it changed while it was resolved (%s, then %s)", resolved, real)
	}
	if err != nil {
		unix.Close(fd)
		return -1, "", false, err
	}
	return fd, real, dir, nil
}

// describe returns the path an open file has on the node and whether it
// is a directory.
func describe(fd int) (string, bool, error) {
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", false, fmt.Errorf("cannot tell what it names: %w", err)
	}
	if !filepath.IsAbs(real) || strings.HasSuffix(real, " (deleted)") {
		return "", false, fmt.Errorf("it names %q, which is not a path on the node", real)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", false, err
	}
	return real, st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

func (s *sources) close() {
	for i, fd := range s.fds {
		if fd >= 0 {
			unix.Close(fd)
			s.fds[i] = -1
		}
	}
}

// pinned reports whether any source is open (and so must be pinned).
func (s *sources) any() bool {
	return slices.ContainsFunc(s.fds, func(fd int) bool { return fd >= 0 })
}

// pin bind-mounts every open source, except those of mounts the decision
// drops, onto dir/<n> (dir from pinDir) and makes that the mount's
// source in the spec. On error the caller removes dir.
// private cuts each pin off the source's mount propagation, for a
// container the guard moves into a user namespace: a mount made on the
// node below a source after the guard looked would otherwise reach the
// container through the pin without the idmap (settleIDMaps refuses
// such a container's propagating binds).
func (s *sources) pin(spec *specs.Spec, dir string, rewrites []view.Rewrite, private bool) error {
	for i, fd := range s.fds {
		m := view.Mount{Destination: spec.Mounts[i].Destination, Options: spec.Mounts[i].Options}
		if fd < 0 || rewritten(rewrites, view.DropMount, m.Destination) {
			continue
		}
		target := filepath.Join(dir, strconv.Itoa(i))
		readOnly := m.ReadOnly() || rewritten(rewrites, view.ReadOnlyMount, m.Destination)
		if err := pinOne(fd, target, s.isDir[i], readOnly, private); err != nil {
			unpinDir(dir)
			return fmt.Errorf("mounts[%s].source = %s: cannot pin it: %w", spec.Mounts[i].Destination, spec.Mounts[i].Source, err)
		}
		spec.Mounts[i].Source = target
	}
	return nil
}

// pinDir makes the container's pin directory afresh (a create retried
// under the same ID starts over), with the link to runc's state that
// keeps it while runc knows the container. It holds the pins and the
// copies of scratch directories (scratchcopy.go).
func pinDir(id, runcRoot string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("the container ID %q cannot name a pin directory", id)
	}
	if err := preparePinRoot(); err != nil {
		return "", err
	}
	sweepPins(time.Now())
	dir := filepath.Join(pinRoot, id)
	if err := unpinDir(dir); err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.Symlink(filepath.Join(runcRoot, id), filepath.Join(dir, pinStateLink)); err != nil {
		unpinDir(dir)
		return "", err
	}
	return dir, nil
}

// pinOne mounts the open file onto target, recursively, so that an rbind
// from the pin shows what an rbind of the source showed. A pin of a
// read-only mount is read-only itself, submounts included: the pin is a
// path on the node, and a writable one would undo the container's ro for
// whatever could reach it.
func pinOne(fd int, target string, dir, readOnly, private bool) error {
	if dir {
		if err := os.Mkdir(target, 0o700); err != nil {
			return err
		}
	} else {
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		f.Close()
	}
	if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(fd), target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if private {
		if err := unix.Mount("", target, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			return err
		}
	}
	if !readOnly {
		return nil
	}
	err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if errors.Is(err, unix.ENOSYS) { // before Linux 5.12: the top mount only
		err = unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	return err
}

// underPinRoot reports whether path is a pin or lies below one.
func underPinRoot(path string) bool {
	return path == pinRoot || strings.HasPrefix(path, pinRoot+"/")
}

// preparePinRoot makes pinRoot a private mount of its own, once per
// boot (under a lock: two wrappers must not stack two mounts there).
func preparePinRoot() error {
	if err := os.MkdirAll(pinRoot, 0o700); err != nil {
		return err
	}
	if mounted, err := mountinfo.Mounted(pinRoot); err != nil || !mounted {
		lock, err := os.OpenFile(pinRoot+".lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return err
		}
		defer lock.Close()
		if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
			return err
		}
		if mounted, err := mountinfo.Mounted(pinRoot); err != nil {
			return err
		} else if !mounted {
			if err := unix.Mount(pinRoot, pinRoot, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("cannot make %s a mount: %w", pinRoot, err)
			}
		}
	}
	// Every time: cheap, and a pin must never propagate.
	if err := unix.Mount("", pinRoot, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("cannot make %s private: %w", pinRoot, err)
	}
	return nil
}

// releasePins removes the pins of a container runc deletes. The
// container keeps its mounts: they are copies in its own mount namespace.
func releasePins(id string) {
	if validID(id) {
		unpinDir(filepath.Join(pinRoot, id))
	}
}

// sweepPins removes the pins of containers runc no longer knows whose
// delete never reached the wrapper. A young directory may belong to a
// container runc is still creating (no state yet): it is left alone.
func sweepPins(now time.Time) {
	entries, err := os.ReadDir(pinRoot)
	if err != nil {
		return
	}
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		dir := filepath.Join(pinRoot, ent.Name())
		if _, err := os.Stat(filepath.Join(dir, pinStateLink)); !os.IsNotExist(err) {
			continue // runc knows it, or it cannot be told
		}
		if fi, err := ent.Info(); err != nil || now.Sub(fi.ModTime()) < sweepAge {
			continue
		}
		unpinDir(dir)
	}
}

// unpinDir unmounts and removes a container's pin directory; a missing
// one is not an error.
func unpinDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ent := range entries {
		p := filepath.Join(dir, ent.Name())
		if ent.Name() != pinStateLink {
			// MNT_DETACH takes the whole recursive pin; EINVAL: not
			// mounted (a pin that failed half-way).
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("cannot unmount the pin %s: %w", p, err)
			}
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return os.Remove(dir)
}

// rewritten reports whether a rewrite of this kind acts on the mount at
// dest.
func rewritten(rewrites []view.Rewrite, kind view.RewriteKind, dest string) bool {
	return slices.ContainsFunc(rewrites, func(r view.Rewrite) bool {
		return r.Kind == kind && r.Mount.Destination == dest
	})
}
