package wrapper

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
	"golang.org/x/sys/unix"
)

// scratchImage is a root filesystem with what a scratch copy meets:
// directories and files of other owners and modes, a root-only
// directory, a setuid file, a symlink out of the image, a fifo.
func scratchImage(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"run/app", "var/lib/app/sub", "var/cache/root-only", "etc"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(root, "etc/secret"), []byte("node's\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(root, "var/lib/app/sub/state"), []byte("state\n"), 0o640))
	must(t, os.WriteFile(filepath.Join(root, "var/lib/app/tool"), []byte("#!/bin/sh\n"), 0o755))
	must(t, unix.Chmod(filepath.Join(root, "var/lib/app/tool"), 0o4755))
	must(t, os.Symlink("/etc/secret", filepath.Join(root, "var/lib/app/link")))
	must(t, unix.Mkfifo(filepath.Join(root, "var/lib/app/fifo"), 0o644))
	must(t, os.Chown(filepath.Join(root, "var/lib/app"), 33, 33))
	must(t, os.Chmod(filepath.Join(root, "var/lib/app"), 0o750))
	must(t, os.Chown(filepath.Join(root, "var/lib/app/sub/state"), 33, 34))
	must(t, os.Chmod(filepath.Join(root, "var/cache/root-only"), 0o700))
	must(t, os.Chown(filepath.Join(root, "run/app"), 999, 999))
	must(t, unix.Chmod(filepath.Join(root, "run/app"), 0o2775))
	return root
}

func scratchRewrite(size string, dirs ...string) []view.Rewrite {
	var ms []view.Mount
	for _, d := range dirs {
		ms = append(ms, view.Mount{Source: "tmpfs", Destination: d, Type: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=" + size, "tmpcopyup"}})
	}
	return []view.Rewrite{{Kind: view.DropCapability, Capability: "CAP_NET_RAW"}, {Kind: view.SetRootReadonly, Scratch: ms}}
}

func ownerMode(t *testing.T, p string) (uint32, uint32, os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	must(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid, fi.Mode()
}

// TestCopyScratch: each scratch directory becomes a bind mount of a tmpfs
// of the scratch size holding the image's directory with its owners and
// modes (root-only ones too, which runc's tmpcopyup inside a user
// namespace cannot read; setuid and setgid on files left out); symlinks
// stay links, fifos are left out, and the engine's rewrites are not
// changed.
func TestCopyScratch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mounts, chown)")
	}
	root := scratchImage(t)
	dir := t.TempDir()
	defer unpinDir(dir)
	rewrites := scratchRewrite("1m", "/run", "/var/lib", "/var/cache")
	got, err := copyScratch(dir, root, rewrites)
	must(t, err)
	if rewrites[1].Scratch[0].Type != "tmpfs" {
		t.Fatal("the engine's rewrites were changed in place")
	}
	for i, m := range got[1].Scratch {
		if m.Type != "bind" || m.Source != filepath.Join(dir, "scratch-"+string(rune('0'+i))) || strings.Join(m.Options, ",") != "bind,nosuid,nodev,noexec" {
			t.Fatalf("scratch %d: %+v, want a nosuid, nodev, noexec bind of its copy", i, m)
		}
	}
	lib := got[1].Scratch[1].Source
	for _, c := range []struct {
		path     string
		uid, gid uint32
		mode     os.FileMode
	}{
		{lib, 0, 0, os.ModeDir | 0o755},
		{lib + "/app", 33, 33, os.ModeDir | 0o750},
		{lib + "/app/sub/state", 33, 34, 0o640},
		{lib + "/app/tool", 0, 0, 0o755}, // setuid left out: the copy lies on the node
		{got[1].Scratch[0].Source + "/app", 999, 999, os.ModeDir | os.ModeSetgid | 0o775},
		{got[1].Scratch[2].Source + "/root-only", 0, 0, os.ModeDir | 0o700},
	} {
		if uid, gid, mode := ownerMode(t, c.path); uid != c.uid || gid != c.gid || mode != c.mode {
			t.Errorf("%s: %d:%d %v, want %d:%d %v", c.path, uid, gid, mode, c.uid, c.gid, c.mode)
		}
	}
	if data, err := os.ReadFile(lib + "/app/sub/state"); err != nil || string(data) != "state\n" {
		t.Errorf("the copied file: %q %v", data, err)
	}
	if target, err := os.Readlink(lib + "/app/link"); err != nil || target != "/etc/secret" {
		t.Errorf("the symlink: %q %v, want a link to /etc/secret, not the file", target, err)
	}
	if _, err := os.Lstat(lib + "/app/fifo"); !os.IsNotExist(err) {
		t.Errorf("the fifo was copied: %v", err)
	}
	var fs unix.Statfs_t
	must(t, unix.Statfs(lib, &fs))
	if fs.Type != unix.TMPFS_MAGIC || fs.Blocks*uint64(fs.Bsize) > 1<<20 {
		t.Errorf("the copy lies on %x with %d bytes, want a tmpfs of 1m", fs.Type, fs.Blocks*uint64(fs.Bsize))
	}
	if err := unpinDir(dir); err != nil {
		t.Fatalf("the copies must go with the pin directory: %v", err)
	}
}

// TestCopyScratchRefuses: an image directory larger than the scratch
// size, directories that fit one by one but not together, a scratch
// directory reached through a symlink, and a tree deeper than the bound
// fail the copy with a reason.
func TestCopyScratchRefuses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mounts, chown)")
	}
	root := scratchImage(t)
	must(t, os.WriteFile(filepath.Join(root, "var/lib/big"), make([]byte, 2<<20), 0o644))
	must(t, os.Symlink("/etc", filepath.Join(root, "var/log")))
	deep := filepath.Join(root, "var/tmp")
	for i := 0; i <= scratchCopyDepth+1; i++ {
		deep = filepath.Join(deep, "d")
	}
	must(t, os.MkdirAll(deep, 0o755))
	must(t, os.WriteFile(filepath.Join(root, "run/half"), make([]byte, 600<<10), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "var/cache/half"), make([]byte, 600<<10), 0o644))
	for _, c := range []struct{ dir, want string }{
		{"/var/lib", "does not fit the scratch size"},
		{"/var/cache", "does not fit the scratch size"}, // with /run: over one size in all
		{"/var/log", "too many levels of symbolic links"},
		{"/var/tmp", "nested deeper than"},
	} {
		dir := t.TempDir()
		dirs := []string{c.dir}
		if c.dir == "/var/cache" {
			dirs = []string{"/run", "/var/cache"}
		}
		_, err := copyScratch(dir, root, scratchRewrite("1m", dirs...))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.dir) {
			t.Errorf("%s: %v, want an error naming it and %q", c.dir, err, c.want)
		}
		must(t, unpinDir(dir))
	}
}
