package wrapper

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/view"
	"golang.org/x/sys/unix"
)

// realScratch keeps of a read-only root's scratch mounts those whose
// directory the image has as a real directory, reached from the root
// filesystem without a symlink. An image linking /var/log to /etc would
// otherwise make /etc writable (red team); a directory the image lacks
// is left out rather than created. The decision's rewrites are not
// changed in place: they are the engine's.
func realScratch(rootfs string, rewrites []view.Rewrite) []view.Rewrite {
	at := scratchAt(rewrites)
	if at < 0 {
		return rewrites
	}
	out := slices.Clone(rewrites)
	out[at].Scratch = nil
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return out // no root filesystem to look in: no scratch
	}
	defer unix.Close(root)
	out[at].Scratch = slices.DeleteFunc(slices.Clone(rewrites[at].Scratch), func(m view.Mount) bool { return !isRealDir(root, m.Destination) })
	return out
}

// scratchAt is the index of the read-only root rewrite when it has
// scratch directories, or -1.
func scratchAt(rewrites []view.Rewrite) int {
	return slices.IndexFunc(rewrites, func(r view.Rewrite) bool { return r.Kind == view.SetRootReadonly && len(r.Scratch) > 0 })
}

// isRealDir reports whether dir is a directory of the root filesystem
// reached without a symlink.
func isRealDir(root int, dir string) bool {
	fd, err := openBeneath(root, dir, unix.O_PATH)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// openBeneath opens dir below the root filesystem as a directory (flags
// O_PATH or O_RDONLY), refusing every symlink on the way (openat2
// RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH); the root itself is no scratch
// directory.
func openBeneath(root int, dir string, flags int) (int, error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+dir), "/")
	if rel == "" {
		return -1, fmt.Errorf("the root filesystem itself is not a scratch directory")
	}
	return unix.Openat2(root, rel, &unix.OpenHow{
		Flags:   uint64(flags) | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}
