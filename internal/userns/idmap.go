package userns

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// HolderEnv, set to "1", makes the wrapper's binary a holder: it only
// waits for its standard input to close. The prober starts it in a new
// user namespace to have one to idmap with before runc makes the
// container's.
const HolderEnv = "NRI_GUARD_USERNS_HOLDER"

// Hold is the holder's whole work.
func Hold() int {
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// Prober finds the bind mounts whose file system the kernel cannot
// idmap (NFS, FUSE without the server's consent, overlayfs, tmpfs before
// Linux 6.3, ...): it clones each source's mount (open_tree) and asks the
// kernel to idmap the clone (mount_setattr), which runc would do for the
// container. Each file system (device and type) is asked once per boot:
// the answers are kept in a directory on /run, so a create whose volumes
// are on file systems already asked starts no holder.
type Prober struct {
	self, cache string
	holder      *exec.Cmd
	stdin       io.Closer
	nsFD        int
}

// NewProber probes with the program self as the holder (HolderEnv set)
// and keeps its answers in cache ("" keeps none).
func NewProber(self, cache string) *Prober {
	return &Prober{self: self, cache: cache, nsFD: -1}
}

// start runs the holder in a user namespace of its own that maps only
// the overflow id, and keeps that namespace open.
func (p *Prober) start() error {
	cmd := exec.Command(p.self)
	cmd.Env = []string{HolderEnv + "=1"}
	one := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 65534, Size: 1}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER, UidMappings: one, GidMappings: one,
		GidMappingsEnableSetgroups: false, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start a process in a new user namespace to test idmapped mounts with: %w", err)
	}
	p.holder, p.stdin = cmd, stdin
	p.nsFD, err = unix.Open("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	return err
}

// Close ends the holder, if one was started.
func (p *Prober) Close() {
	if p.nsFD >= 0 {
		unix.Close(p.nsFD)
		p.nsFD = -1
	}
	if p.holder != nil {
		p.stdin.Close()
		p.holder.Wait()
		p.holder = nil
	}
}

// CanIDMap says whether a mount of path can be idmapped, and names its
// file system.
func (p *Prober) CanIDMap(path string) (bool, string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return false, "", err
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return false, "", err
	}
	name := fsName(fs.Type)
	key := fmt.Sprintf("%x-%x", uint64(fs.Type), st.Dev)
	if ok, known := p.cached(key); known {
		return ok, name, nil
	}
	if p.holder == nil {
		if err := p.start(); err != nil {
			return false, name, err
		}
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return false, name, fmt.Errorf("open_tree %s: %w", path, err)
	}
	defer unix.Close(tree)
	err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(p.nsFD)})
	if err != nil && !errors.Is(err, unix.EINVAL) { // EINVAL: the file system does not allow idmapped mounts
		return false, name, fmt.Errorf("mount_setattr on a clone of %s: %w", path, err)
	}
	p.keep(key, err == nil)
	return err == nil, name, nil
}

// cached reads an answer kept earlier; a missing or odd one is asked
// again.
func (p *Prober) cached(key string) (ok, known bool) {
	if p.cache == "" {
		return false, false
	}
	data, err := os.ReadFile(filepath.Join(p.cache, key))
	if err != nil || len(data) != 1 || (data[0] != '0' && data[0] != '1') {
		return false, false
	}
	return data[0] == '1', true
}

// keep writes an answer by a rename, so a reader never sees half of it;
// one that cannot be written is asked again next time.
func (p *Prober) keep(key string, ok bool) {
	if p.cache == "" || os.MkdirAll(p.cache, 0o700) != nil {
		return
	}
	answer := map[bool]string{true: "1", false: "0"}[ok]
	tmp, err := os.CreateTemp(p.cache, ".answer-")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(answer)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(p.cache, key)) != nil {
		os.Remove(tmp.Name())
	}
}

// Finding is what Unmappable says of one idmapped bind mount.
type Finding struct {
	// FS names the file system of the mount's source when the kernel
	// cannot idmap it, or of the mount below it (Below) that it cannot.
	FS    string
	Below string
	// Submounts: there are mounts below the source (runc binds them
	// with it), all of which the kernel can idmap.
	Submounts bool
}

// Unmappable looks at the spec's bind mounts asking for an idmap (the
// ones adaptMounts idmapped) and the mounts below each source, and
// reports those the kernel cannot idmap and those with mounts below.
func Unmappable(spec *specs.Spec, p *Prober) (map[int]Finding, error) {
	out := map[int]Finding{}
	var points []string
	for i, m := range spec.Mounts {
		if !view.IsBindMount(m.Type, m.Options) || !hasIDMap(m.Options) {
			continue
		}
		ok, name, err := p.CanIDMap(m.Source)
		if err != nil {
			return nil, fmt.Errorf("mounts[%s]: %w", m.Destination, err)
		}
		var f Finding
		if !ok {
			f.FS = name
		}
		if points == nil {
			if points, err = mountPoints(); err != nil {
				return nil, err
			}
		}
		for _, below := range pointsBelow(points, m.Source) {
			f.Submounts = true
			if ok, name, err := p.CanIDMap(below); err != nil {
				return nil, fmt.Errorf("mounts[%s]: %w", m.Destination, err)
			} else if !ok && f.Below == "" {
				f.FS, f.Below = name, below
			}
		}
		if f != (Finding{}) {
			out[i] = f
		}
	}
	return out, nil
}

// mountPoints lists this mount namespace's mount points.
func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 {
			out = append(out, unescapeMountinfo(fields[4]))
		}
	}
	return out, nil
}

// pointsBelow are the mount points strictly below dir.
func pointsBelow(points []string, dir string) []string {
	dir = filepath.Clean(dir)
	var out []string
	for _, p := range points {
		if strings.HasPrefix(p, dir+"/") && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// DropIDMap makes mount i a plain bind again.
func DropIDMap(spec *specs.Spec, i int) {
	m := &spec.Mounts[i]
	m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "idmap" || o == "ridmap" })
}

// IDMapRecursively idmaps mount i with every mount below it (runc's
// ridmap): a plain idmap leaves the mounts below a recursive bind
// unmapped.
func IDMapRecursively(spec *specs.Spec, i int) {
	DropIDMap(spec, i)
	m := &spec.Mounts[i]
	m.Options = append(m.Options, "ridmap")
}

// fsName names the file systems a bind source is commonly on.
func fsName(magic int64) string {
	names := map[int64]string{
		unix.NFS_SUPER_MAGIC: "nfs", unix.FUSE_SUPER_MAGIC: "fuse", unix.OVERLAYFS_SUPER_MAGIC: "overlay",
		unix.TMPFS_MAGIC: "tmpfs", unix.EXT4_SUPER_MAGIC: "ext4", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs",
		unix.CIFS_SUPER_MAGIC: "cifs", unix.SMB2_SUPER_MAGIC: "smb2", unix.V9FS_MAGIC: "9p", unix.CEPH_SUPER_MAGIC: "ceph",
		unix.PROC_SUPER_MAGIC: "proc", unix.SYSFS_MAGIC: "sysfs", unix.SQUASHFS_MAGIC: "squashfs", 0x2fc12fc1: "zfs",
	}
	if n, ok := names[magic]; ok {
		return n
	}
	return fmt.Sprintf("file system type %#x", magic)
}
