package userns

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
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
// container. Each file system is asked once.
type Prober struct {
	holder *exec.Cmd
	stdin  io.Closer
	nsFD   int
	known  map[uint64]bool // by device
}

// NewProber starts a holder (the program self, with HolderEnv set) in a
// user namespace of its own that maps only the overflow id, and keeps
// that namespace open.
func NewProber(self string) (*Prober, error) {
	cmd := exec.Command(self)
	cmd.Env = []string{HolderEnv + "=1"}
	one := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 65534, Size: 1}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER, UidMappings: one, GidMappings: one,
		GidMappingsEnableSetgroups: false, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start a process in a new user namespace to test idmapped mounts with: %w", err)
	}
	p := &Prober{holder: cmd, stdin: stdin, known: map[uint64]bool{}}
	p.nsFD, err = unix.Open("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close ends the holder.
func (p *Prober) Close() {
	if p.nsFD > 0 {
		unix.Close(p.nsFD)
	}
	p.stdin.Close()
	p.holder.Wait()
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
	if ok, seen := p.known[st.Dev]; seen {
		return ok, name, nil
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return false, name, fmt.Errorf("open_tree %s: %w", path, err)
	}
	defer unix.Close(tree)
	err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(p.nsFD)})
	switch {
	case err == nil:
		p.known[st.Dev] = true
	case errors.Is(err, unix.EINVAL):
		p.known[st.Dev] = false // the file system does not allow idmapped mounts
	default:
		return false, name, fmt.Errorf("mount_setattr on a clone of %s: %w", path, err)
	}
	return p.known[st.Dev], name, nil
}

// Unmappable is the indexes of the spec's bind mounts asking for an
// idmap (the ones adaptMounts idmapped) that the kernel cannot idmap,
// with their file systems' names.
func Unmappable(spec *specs.Spec, p *Prober) (map[int]string, error) {
	out := map[int]string{}
	for i, m := range spec.Mounts {
		if !view.IsBindMount(m.Type, m.Options) || !hasIDMap(m.Options) {
			continue
		}
		ok, name, err := p.CanIDMap(m.Source)
		if err != nil {
			return nil, fmt.Errorf("mounts[%s]: %w", m.Destination, err)
		}
		if !ok {
			out[i] = name
		}
	}
	return out, nil
}

// DropIDMap makes mount i a plain bind again.
func DropIDMap(spec *specs.Spec, i int) {
	m := &spec.Mounts[i]
	m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "idmap" || o == "ridmap" })
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
