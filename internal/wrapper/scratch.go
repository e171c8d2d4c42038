package wrapper

import (
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
	at := slices.IndexFunc(rewrites, func(r view.Rewrite) bool { return r.Kind == view.SetRootReadonly && len(r.Scratch) > 0 })
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

// hasScratch reports whether the read-only root rewrite has scratch
// directories left.
func hasScratch(rewrites []view.Rewrite) bool {
	return slices.ContainsFunc(rewrites, func(r view.Rewrite) bool { return r.Kind == view.SetRootReadonly && len(r.Scratch) > 0 })
}

// isRealDir opens dir below the root filesystem refusing every symlink on
// the way (openat2 RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH) and wants a
// directory.
func isRealDir(root int, dir string) bool {
	rel := strings.TrimPrefix(filepath.Clean("/"+dir), "/")
	if rel == "" {
		return false
	}
	fd, err := unix.Openat2(root, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
