package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/nri-guard/nri-guard/internal/jsonpos"
)

// manifest records what the installer wrote, so that a reinstall changes
// only what differs and uninstall puts the node back as it was.
type manifest struct {
	Mode  string  `json:"mode"`
	Files []entry `json:"files"`
	// Dirs are the directories the installer created, parents first.
	Dirs []string `json:"dirs"`
}

type entry struct {
	Path   string `json:"path"`   // node path
	SHA256 string `json:"sha256"` // of what the installer wrote
	// Backup names the copy of a file that was there before (a path
	// below backupDir), with its mode and owner; empty when there was
	// none.
	Backup     string      `json:"backup,omitempty"`
	BackupMode os.FileMode `json:"backupMode,omitempty"`
	BackupUID  int         `json:"backupUID,omitempty"`
	BackupGID  int         `json:"backupGID,omitempty"`
}

func (m *manifest) find(path string) *entry {
	for i := range m.Files {
		if m.Files[i].Path == path {
			return &m.Files[i]
		}
	}
	return nil
}

// readManifest returns an empty manifest when there is none.
func readManifest(root string) (*manifest, bool, error) {
	path := onNode(root, manifestFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &manifest{}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, false, fmt.Errorf("%w (the installer's record of what it wrote; restore it or remove nri-guard's files by hand)", jsonpos.Error(path, data, err))
	}
	return &m, true, nil
}

func (m *manifest) write(root string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	path := onNode(root, manifestFile)
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		return nil // a reinstall that changes nothing leaves no trace
	}
	return writeAtomic(path, data, 0o600)
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// hashFile returns "" for a missing file.
func hashFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return hashOf(data), nil
}
