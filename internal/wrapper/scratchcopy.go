package wrapper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	"golang.org/x/sys/unix"
)

// A container the guard gives a user namespace cannot have its scratch
// directories as runc's tmpfs with tmpcopyup: runc copies inside the
// namespace, where the image's files belong to ids it does not map, so
// the copy fails on root-only directories or comes out owned by nobody
// (PostgreSQL's /run/postgresql, nginx's /var/lib/nginx). The wrapper
// makes the copy itself, on the node, before runc starts: a tmpfs of the
// scratch size per directory in the container's pin directory, holding
// the image's directory with its owners and modes, bind-mounted in its
// place. The user namespace step idmaps it like every bind mount, so the
// image's ids on disk are the same ids inside.

// Bounds of a container's copies: an image is not trusted to be small.
// The copy is made by the wrapper, so its pages are charged to the
// shim's cgroup rather than the pod's: all directories together get at
// most one scratch size of data (the largest size= among them, 64 MiB
// unless the policy says otherwise) and scratchCopyEntries entries; each
// tmpfs holds at most scratchInodes inodes, the container's own files
// included.
const (
	scratchCopyEntries = 20000
	scratchCopyDepth   = 64
	scratchInodes      = 65536
	defaultCopyBytes   = 64 << 20
)

// copyBudget is what a container's copies may still take.
type copyBudget struct {
	entries int
	bytes   int64
}

// copyScratch replaces each scratch tmpfs of the read-only root rewrite
// with a bind mount of a copy made in dir (the container's pin
// directory). The engine's rewrites are not changed in place.
func copyScratch(dir, rootfs string, rewrites []view.Rewrite) ([]view.Rewrite, error) {
	at := scratchAt(rewrites)
	if at < 0 {
		return rewrites, nil
	}
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open the root filesystem: %w", err)
	}
	defer unix.Close(root)
	out := slices.Clone(rewrites)
	out[at].Scratch = make([]view.Mount, len(rewrites[at].Scratch))
	budget := &copyBudget{entries: scratchCopyEntries, bytes: copyBytes(rewrites[at].Scratch)}
	for i, m := range rewrites[at].Scratch {
		target := filepath.Join(dir, "scratch-"+strconv.Itoa(i))
		if err := copyOneScratch(root, m, target, budget); err != nil {
			return nil, fmt.Errorf("the scratch directory %s (copied for the user namespace): %w", m.Destination, err)
		}
		out[at].Scratch[i] = view.Mount{Source: target, Destination: m.Destination, Type: "bind",
			Options: []string{"bind", "nosuid", "nodev", "noexec"}}
	}
	return out, nil
}

// copyOneScratch mounts a tmpfs of the scratch's size at target and
// copies the image's directory into it, the tmpfs's root taking the
// directory's owner and mode.
func copyOneScratch(root int, m view.Mount, target string, budget *copyBudget) error {
	src, err := openBeneath(root, m.Destination, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer unix.Close(src)
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil {
		return err
	}
	if err := os.Mkdir(target, 0o700); err != nil {
		return err
	}
	opts := "mode=0700,nr_inodes=" + strconv.Itoa(scratchInodes)
	if size := optionValue(m.Options, "size"); size != "" {
		opts += ",size=" + size
	}
	if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		return fmt.Errorf("cannot mount a tmpfs for it: %w", err)
	}
	dst, err := unix.Open(target, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	if err := copyTree(src, dst, 0, budget); err != nil {
		if errors.Is(err, unix.ENOSPC) || errors.Is(err, errOverBudget) {
			return fmt.Errorf("the image's directory does not fit the scratch size (readOnlyRootFilesystem.scratchSize): %w", err)
		}
		return err
	}
	return setOwnerMode(dst, &st)
}

// copyTree copies the entries of directory src into directory dst:
// directories, regular files and symlinks (as links, never followed),
// with their owners and modes. Devices, fifos and sockets are left out:
// a scratch directory is for data.
func copyTree(src, dst, depth int, budget *copyBudget) error {
	if depth > scratchCopyDepth {
		return fmt.Errorf("nested deeper than %d directories", scratchCopyDepth)
	}
	return eachName(src, func(name string) error {
		if budget.entries--; budget.entries < 0 {
			return fmt.Errorf("more than %d entries", scratchCopyEntries)
		}
		var st unix.Stat_t
		if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		return copyEntry(src, dst, name, &st, depth, budget)
	})
}

func copyEntry(src, dst int, name string, st *unix.Stat_t, depth int, budget *copyBudget) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return err
		}
		from, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(from)
		to, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(to)
		if err := copyTree(from, to, depth+1, budget); err != nil {
			return err
		}
		return setOwnerMode(to, st)
	case unix.S_IFREG:
		return copyFile(src, dst, name, budget)
	case unix.S_IFLNK:
		target, err := readlinkat(src, name)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, dst, name); err != nil {
			return err
		}
		return unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW)
	}
	return nil
}

// errOverBudget: the container's copies would exceed their data budget.
var errOverBudget = errors.New("over the copy budget")

// copyFile copies a regular file; its owner and mode are taken from the
// file opened, not from an earlier stat of its name. Setuid and setgid
// are not copied: the mount is nosuid, and the copy lies on the node.
func copyFile(src, dst int, name string, budget *copyBudget) error {
	from, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	in := os.NewFile(uintptr(from), name)
	defer in.Close()
	var st unix.Stat_t
	if err := unix.Fstat(from, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	if budget.bytes -= st.Size; budget.bytes < 0 {
		return errOverBudget
	}
	st.Mode &^= unix.S_ISUID | unix.S_ISGID
	to, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	out := os.NewFile(uintptr(to), name)
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return setOwnerMode(to, &st)
}

// setOwnerMode gives an open file the owner and mode of st; the mode
// after the owner, as chown clears the setuid and setgid bits.
func setOwnerMode(fd int, st *unix.Stat_t) error {
	if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return unix.Fchmod(fd, st.Mode&0o7777)
}

// eachName calls fn for each entry of a directory opened as fd, without
// closing it, reading the names in batches: a directory of a million
// names is refused by the budget before it is read whole.
func eachName(fd int, fn func(string) error) error {
	dup, err := unix.Dup(fd)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	for {
		names, err := f.Readdirnames(256)
		for _, name := range names {
			if err := fn(name); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// copyBytes is the data budget of a container's copies: the largest
// size= of its scratch mounts (a percentage counts as the default).
func copyBytes(scratch []view.Mount) int64 {
	var most int64
	for _, m := range scratch {
		if n, ok := policy.TmpfsSize(optionValue(m.Options, "size")).Bytes(); ok && n > most {
			most = n
		}
	}
	if most == 0 {
		return defaultCopyBytes
	}
	return most
}

func readlinkat(dir int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// optionValue is the value of a key=value mount option.
func optionValue(options []string, key string) string {
	for _, o := range options {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v
		}
	}
	return ""
}
