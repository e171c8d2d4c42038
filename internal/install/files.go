package install

import (
	"fmt"
	"os"
	"path/filepath"
)

// ifForeign says what to do with a file at a planned path that the
// installer did not write.
type ifForeign int

const (
	// backUp keeps a byte-for-byte copy, which uninstall puts back.
	backUp ifForeign = iota
	// refuse stops the installation: an admin's own containerd template
	// or drop-in is theirs to merge, not the installer's to replace.
	refuse
	// keep leaves it: a node policy someone put there (or edited since
	// the install) is the node's policy.
	keep
)

// file is one file the installer owns on the node.
type file struct {
	path    string // node path
	data    []byte
	mode    os.FileMode
	binary  bool // shown by size and hash in a dry run, not as text
	foreign ifForeign
	why     string // what a refusal or a kept file says
	// keepEdit, when set, keeps the file once someone changed what the
	// installer wrote there (the node's own settings outrank the
	// installer's), and is what the installer says about it.
	keepEdit string
}

// planFiles is every file for this node, in the order they are written:
// binaries and configuration first, containerd's configuration last, so
// containerd never names a file that is not there yet.
func planFiles(o *Options, n Node) ([]file, error) {
	guard, err := os.ReadFile(filepath.Join(o.BinDir, "nri-guard"))
	if err != nil {
		return nil, fmt.Errorf("the nri-guard binary to install: %w", err)
	}
	wrapper, err := os.ReadFile(filepath.Join(o.BinDir, "nri-guard-runc"))
	if err != nil {
		return nil, fmt.Errorf("the runtime wrapper to install (expected next to nri-guard): %w", err)
	}
	wrapped, err := n.Wrapped()
	if err != nil {
		return nil, err
	}
	registry, err := systemDefaultRegistry(o.Root)
	if err != nil {
		return nil, err
	}
	files := []file{
		{path: guardBin, data: guard, mode: 0o755, binary: true},
		{path: wrapperBin, data: wrapper, mode: 0o755, binary: true},
		{path: pluginBin, data: guard, mode: 0o755, binary: true},
		{path: pluginConf, data: []byte(pluginConfText()), mode: 0o644},
		{path: policyFile, data: []byte(policyText(o.Mode, n, n.Guarded(wrapped), registry)), mode: 0o644, foreign: keep,
			why: "the node's policy is kept; --mode is not applied to it (set defaultMode there yourself)"},
		// An admin's own runc, or pool settings: a changed pool state
		// written over would point the wrapper at an empty pool while
		// pods hold ranges in the old one.
		{path: runtimeConfig, data: []byte(runtimeConfigText(o.runc(), wrapped)), mode: 0o644,
			keepEdit: "changed since it was installed, so it is the node's wrapper configuration now and stays as it is; " +
				"the installer's version is not written (`--dry-run` shows how it differs; move the file away and install again to take it)"},
	}
	// A copy of the wrapper per runtime: the file name is how it knows
	// which runtime it serves.
	for _, r := range wrapped {
		files = append(files, file{path: wrapperPath(r.Name), data: wrapper, mode: 0o755, binary: true})
	}
	settings := []byte(containerdSettings(n.Validator(), wrapped))
	if n.DropIns {
		return append(files, file{path: dropInFile, data: settings, mode: 0o644, foreign: refuse,
			why: "a drop-in of that name that nri-guard did not write"}), nil
	}
	return append(files,
		file{path: importedConfig, data: settings, mode: 0o644},
		file{path: userTemplate, data: []byte(userTemplateText()), mode: 0o644, foreign: refuse,
			why: "the node's own containerd template; this K3s release imports no config-v3.toml.d drop-ins, so nri-guard " +
				"needs that file: merge nri-guard's settings into it by hand (install/README.md) or move it away and install again"}), nil
}

// plannedDirs are created even when no file lands in them.
var plannedDirs = []string{policyDropIns}
