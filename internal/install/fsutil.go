package install

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// writeAtomic replaces path in one rename, so containerd, K3s or a
// running wrapper never read half a file, and a running binary keeps
// its old inode.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".nri-guard-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// missingDirs lists the directories MkdirAll would create for dir,
// parents first.
func missingDirs(root, dir string) []string {
	var out []string
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(onNode(root, d)); !errors.Is(err, os.ErrNotExist) {
			break
		}
		out = append([]string{d}, out...)
	}
	return out
}

// owner returns a file's owner, to put a backed-up file back as it was.
func owner(fi os.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}
