// Package install puts nri-guard on a K3s node and takes it off again:
// the binaries, the node policy and the configuration of K3s's bundled
// containerd (the NRI plugin pre-registered, the default validator
// requiring it on containerd 2.2+, the runtime wrapper as runc). It keeps
// a manifest of what it wrote and a copy of every file it replaced, so a
// reinstall changes only what differs and uninstall restores the node.
package install

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Policy modes the installer can start a node in.
const (
	ModeAudit   = "audit"
	ModeEnforce = "enforce"
)

// Options of an install or uninstall.
type Options struct {
	// Root is the node's root directory: "/" on the node, a scratch tree
	// in tests and image builds.
	Root   string
	DryRun bool
	Mode   string
	// K3sVersion and ContainerdVersion override detection.
	K3sVersion, ContainerdVersion string
	// Runc is the real runc the wrapper runs (default: K3s's bundled one).
	Runc string
	// BinDir holds the nri-guard and nri-guard-runc binaries to install.
	BinDir string
	// Remap is RemapAuto, RemapOn or RemapOff.
	Remap string
	Out   io.Writer
}

func (o *Options) runc() string {
	if o.Runc != "" {
		return o.Runc
	}
	return bundledRunc
}

func (o *Options) check() error {
	if o.Mode != ModeAudit && o.Mode != ModeEnforce {
		return fmt.Errorf("--mode %q: want audit or enforce", o.Mode)
	}
	if o.Remap == "" {
		o.Remap = RemapAuto
	}
	if o.Remap != RemapAuto && o.Remap != RemapOn && o.Remap != RemapOff {
		return fmt.Errorf("--remap %q: want auto, on or off", o.Remap)
	}
	if !filepath.IsAbs(o.Root) {
		return fmt.Errorf("--root %q: want an absolute directory", o.Root)
	}
	if o.Root == "/" && os.Geteuid() != 0 && !o.DryRun {
		return errors.New("run it as root: it writes K3s's containerd configuration")
	}
	// An explicit --runc is the admin's word; K3s's own runc must exist,
	// or every container would fail at its first start.
	if o.Runc == "" {
		if _, err := os.Stat(onNode(o.Root, bundledRunc)); err != nil {
			return fmt.Errorf("K3s's bundled runc is not at %s: %w; pass --runc with the real runc", onNode(o.Root, bundledRunc), errors.Unwrap(err))
		}
	}
	return nil
}

// Install puts nri-guard on the K3s node at o.Root.
func Install(o Options) error {
	p, err := planInstall(&o)
	if err != nil {
		return err
	}
	if o.DryRun {
		show(o.Out, o.Root, p.actions, newDirs(o.Root, p.files))
		fmt.Fprintln(o.Out, "dry run: nothing was changed")
		return nil
	}
	if err := apply(o.Root, p.actions, p.files, p.manifest, o.Mode); err != nil {
		return err
	}
	report(o.Out, p.actions)
	fmt.Fprintln(o.Out, "Restart K3s (systemctl restart k3s, or k3s-agent on agents) for containerd to read its new configuration;")
	fmt.Fprintln(o.Out, "then `nri-guard status` shows the policy in force.")
	return nil
}

// installPlan is everything an install will do, decided before it does
// any of it.
type installPlan struct {
	files    []file
	manifest *manifest
	actions  []action
}

// planInstall reads the node, says what it found, and decides every step.
func planInstall(o *Options) (installPlan, error) {
	var p installPlan
	if err := o.check(); err != nil {
		return p, err
	}
	n, err := detect(o)
	if err != nil {
		return p, err
	}
	if len(n.ForeignPlugins) > 0 {
		return p, fmt.Errorf("containerd's default NRI plugin directory %s holds %v: nri-guard points containerd's plugin_path to %s, "+
			"so they would no longer start; move them there first", onNode(o.Root, defaultNRIPluginDir), n.ForeignPlugins, pluginDir)
	}
	describe(o.Out, n)
	if p.files, err = planFiles(o, n); err != nil {
		return p, err
	}
	if p.manifest, _, err = readManifest(o.Root); err != nil {
		return p, err
	}
	p.actions, err = planActions(o.Root, p.files, p.manifest)
	return p, err
}

// newDirs are the directories an install would create.
func newDirs(root string, files []file) []string {
	var out []string
	seen := map[string]bool{}
	dirs := append([]string{filepath.Dir(manifestFile)}, plannedDirs...)
	for _, f := range files {
		dirs = append(dirs, filepath.Dir(f.path))
	}
	for _, d := range dirs {
		for _, m := range missingDirs(root, d) {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}
