package userns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// MountTargets creates, in the container's root filesystem, every mount
// destination that the image lacks (the service account token directory,
// /etc/hosts, ...). Inside a user namespace runc cannot create them: the
// image's directories belong to the node's root, an id the namespace does
// not map. The image is untrusted, so every path is resolved with the
// kernel keeping it inside rootfs (openat2 RESOLVE_IN_ROOT): a symlink in
// the image cannot make the wrapper create anything on the node.
// Destinations inside another mount (/dev/pts in /dev) are left to runc,
// which creates them in that mount, owned by the namespace.
func MountTargets(rootfs string, mounts []specs.Mount) error {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root filesystem %s: %w", rootfs, err)
	}
	defer unix.Close(root)
	rootPath, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", root))
	if err != nil {
		return err
	}
	for i, m := range mounts {
		if insideEarlierMount(m.Destination, mounts[:i]) {
			continue
		}
		if err := ensureTarget(root, rootPath, m); err != nil {
			return fmt.Errorf("create mount target %s in the root filesystem: %w", m.Destination, err)
		}
	}
	return nil
}

func insideEarlierMount(dest string, earlier []specs.Mount) bool {
	dest = filepath.Clean("/" + dest)
	for _, m := range earlier {
		parent := filepath.Clean("/" + m.Destination)
		if parent == "/" || strings.HasPrefix(dest, parent+"/") {
			return true
		}
	}
	return false
}

// ensureTarget creates what is missing of the destination: directories
// on the way, and at the end a directory, or an empty file when the
// mount's source is a file.
func ensureTarget(root int, rootPath string, m specs.Mount) error {
	return ensurePath(root, rootPath, m.Destination, sourceIsFile(m), 0)
}

// maxLinks bounds how many links on the way are followed, as the kernel
// does (ELOOP after 40).
const maxLinks = 40

// ensurePath walks rel one component at a time from the root. A
// component that is a link to something missing (an image's
// /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf) has its
// target created instead, as runc would, resolved inside the root too.
func ensurePath(root int, rootPath, rel string, file bool, links int) error {
	if links > maxLinks {
		return unix.ELOOP
	}
	parts := strings.Split(strings.Trim(filepath.Clean("/"+rel), "/"), "/")
	if parts[0] == "" {
		return nil // the root itself
	}
	for i := range parts {
		fd, err := openInRoot(root, strings.Join(parts[:i+1], "/"))
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			return err
		}
		parent, last := strings.Join(parts[:i], "/"), i == len(parts)-1
		err = create(root, parent, parts[i], last && file)
		if errors.Is(err, unix.EEXIST) {
			target, lerr := linkTarget(root, rootPath, parent, parts[i])
			if lerr != nil {
				return err
			}
			err = ensurePath(root, rootPath, target, last && file, links+1)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// linkTarget reads the link name in parentRel and returns what it points
// at as a path inside the root: an absolute target is the root's, a
// relative one is taken from the directory the link really lies in.
func linkTarget(root int, rootPath, parentRel, name string) (string, error) {
	if parentRel == "" {
		parentRel = "."
	}
	dir, err := openat2InRoot(root, parentRel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return "", err
	}
	defer unix.Close(dir)
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", err
	}
	target := string(buf[:n])
	if filepath.IsAbs(target) {
		return target, nil
	}
	dirPath, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", dir))
	if err != nil {
		return "", err
	}
	inRoot, ok := strings.CutPrefix(dirPath, rootPath)
	if !ok {
		return "", fmt.Errorf("%s lies outside the root filesystem %s", dirPath, rootPath)
	}
	return filepath.Join("/", inRoot, target), nil
}

func openInRoot(root int, rel string) (int, error) {
	return openat2InRoot(root, rel, unix.O_PATH|unix.O_CLOEXEC)
}

func openat2InRoot(root int, rel string, flags int) (int, error) {
	return unix.Openat2(root, rel, &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

func create(root int, parentRel, name string, file bool) error {
	if parentRel == "" {
		parentRel = "."
	}
	dir, err := openat2InRoot(root, parentRel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	if !file {
		return unix.Mkdirat(dir, name, 0o755)
	}
	fd, err := unix.Openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// sourceIsFile: a bind mount of a file needs a file to mount onto.
func sourceIsFile(m specs.Mount) bool {
	if !view.IsBindMount(m.Type, m.Options) {
		return false
	}
	fi, err := os.Stat(m.Source)
	return err == nil && !fi.IsDir()
}
