package install

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// apply carries out the planned actions, recording each in the manifest
// as soon as it is done, so an interrupted install can be finished or
// undone.
func apply(root string, actions []action, files []file, m *manifest, mode string) error {
	for _, d := range newDirs(root, files) {
		if err := os.Mkdir(onNode(root, d), 0o755); err != nil {
			return err
		}
		if !slices.Contains(m.Dirs, d) {
			m.Dirs = append(m.Dirs, d)
		}
	}
	m.Mode = mode
	if err := m.write(root); err != nil {
		return err
	}
	for _, a := range actions {
		if err := step(root, a, m); err != nil {
			return fmt.Errorf("%s %s: %w (the manifest holds what was done so far: install again to finish, or uninstall)", a.verb, onNode(root, a.f.path), err)
		}
		if err := m.write(root); err != nil {
			return err
		}
	}
	return nil
}

func step(root string, a action, m *manifest) error {
	path := onNode(root, a.f.path)
	switch a.verb {
	case create, update:
		if err := writeAtomic(path, a.f.data, a.f.mode); err != nil {
			return err
		}
		record(m, entry{Path: a.f.path, SHA256: hashOf(a.f.data)})
	case replace:
		e, err := backUpFile(root, a.f.path)
		if err != nil {
			return err
		}
		if err := writeAtomic(path, a.f.data, a.f.mode); err != nil {
			return err
		}
		e.SHA256 = hashOf(a.f.data)
		record(m, e)
	case remove:
		if err := restore(root, a.old); err != nil {
			return err
		}
		m.Files = slices.DeleteFunc(m.Files, func(e entry) bool { return e.Path == a.f.path })
	}
	return nil
}

// record sets the written content of a file, keeping the backup an
// earlier install took of what was there first.
func record(m *manifest, e entry) {
	if old := m.find(e.Path); old != nil {
		old.SHA256 = e.SHA256
		return
	}
	m.Files = append(m.Files, e)
}

// backUpFile copies a file byte for byte below backupDir, with its mode
// and owner, before the installer replaces it.
func backUpFile(root, nodePath string) (entry, error) {
	fi, err := os.Stat(onNode(root, nodePath))
	if err != nil {
		return entry{}, err
	}
	data, err := os.ReadFile(onNode(root, nodePath))
	if err != nil {
		return entry{}, err
	}
	e := entry{Path: nodePath, Backup: filepath.Join(backupDir, nodePath), BackupMode: fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)}
	e.BackupUID, e.BackupGID = owner(fi)
	if err := os.MkdirAll(filepath.Dir(onNode(root, e.Backup)), 0o700); err != nil {
		return e, err
	}
	return e, writeAtomic(onNode(root, e.Backup), data, 0o600)
}

// restore removes an installed file and puts back the one it replaced.
func restore(root string, e *entry) error {
	path := onNode(root, e.Path)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	if e.Backup == "" {
		return nil
	}
	data, err := os.ReadFile(onNode(root, e.Backup))
	if err != nil {
		return fmt.Errorf("the backup of %s: %w", e.Path, err)
	}
	if err := writeAtomic(path, data, e.BackupMode); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		if uid, gid := owner(fi); uid != e.BackupUID || gid != e.BackupGID {
			if err := os.Lchown(path, e.BackupUID, e.BackupGID); err != nil {
				return err
			}
		}
	}
	return os.Remove(onNode(root, e.Backup))
}
