package install

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/nri-guard/nri-guard/internal/idpool"
)

// Uninstall removes what Install wrote and puts back every file it
// replaced, byte for byte, then removes the directories it created and
// the state nri-guard kept in them. A node policy changed since the
// install is the admin's and stays, and so does a user namespace pool
// that running pods still hold ranges in; an edited runtime.yaml is
// kept as a copy beside it.
func Uninstall(o Options) error {
	if !filepath.IsAbs(o.Root) {
		return fmt.Errorf("--root %q: want an absolute directory", o.Root)
	}
	m, found, err := readManifest(o.Root)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("nothing to uninstall: %s does not exist (nri-guard was not installed with `nri-guard install k3s` at this root)", onNode(o.Root, manifestFile))
	}
	verb := "removed"
	if o.DryRun {
		verb = "would remove"
	}
	// Newest first: containerd's configuration goes before the binaries
	// it names.
	files := slices.Clone(m.Files)
	slices.Reverse(files)
	for i := range files {
		if err := uninstallFile(o, &files[i], verb); err != nil {
			return err
		}
	}
	if err := removeState(o, verb); err != nil {
		return err
	}
	removeDirs(o, m.Dirs)
	if o.DryRun {
		fmt.Fprintln(o.Out, "dry run: nothing was changed")
		return nil
	}
	fmt.Fprintln(o.Out, "Restart K3s now: until it restarts, containerd still runs containers through the removed runtime wrapper.")
	fmt.Fprintf(o.Out, "The decision log and nri-guard's log stay in %s.\n", filepath.Dir(decisionLog))
	return nil
}

// removeState removes what nri-guard created while it ran, and the
// installer's manifest and backups.
func removeState(o Options, verb string) error {
	poolDir := filepath.Dir(userNSPool)
	for _, p := range append(runtimeState, filepath.Dir(manifestFile)) {
		if _, err := os.Lstat(onNode(o.Root, p)); err != nil {
			continue
		}
		if p == poolDir && keepPool(o) {
			continue
		}
		fmt.Fprintf(o.Out, "%s %s\n", verb, onNode(o.Root, p))
		if !o.DryRun {
			if err := os.RemoveAll(onNode(o.Root, p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// keepPool says whether the wrapper's user namespace pool must outlive
// the uninstall, and why. Pods keep running without nri-guard, in the
// host ids the pool gave them; a reinstall that found the pool empty
// would give those ids to new pods. A pool that cannot be read may hold
// ranges too, so it stays as well.
func keepPool(o Options) bool {
	path := onNode(o.Root, userNSPool)
	entries, err := idpool.ReadEntries(path)
	var why string
	switch {
	case errors.Is(err, idpool.ErrCorrupt):
		why = "it does not parse as a pool, so it may hold ranges of running pods"
	case err != nil:
		why = fmt.Sprintf("it cannot be read (%v), so it may hold ranges of running pods", err)
	case len(entries) == 0:
		return false
	default:
		why = fmt.Sprintf("it holds %d user namespace id %s of pods that may still run", len(entries), plural(len(entries), "range", "ranges"))
	}
	fmt.Fprintf(o.Out, "keep %s and its directory: %s; it stays so that a reinstall does not give those host ids to new pods. "+
		"Remove the directory once no pod runs in a user namespace.\n", path, why)
	return true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func uninstallFile(o Options, e *entry, verb string) error {
	path := onNode(o.Root, e.Path)
	sum, err := hashFile(path)
	if err != nil {
		return err
	}
	if e.Path == policyFile && sum != "" && sum != e.SHA256 {
		fmt.Fprintf(o.Out, "keep %s: changed since it was installed, so it is the node's policy now\n", path)
		return nil
	}
	changed := ""
	if sum != "" && sum != e.SHA256 {
		changed = " (changed since it was installed)"
		if e.Path == runtimeConfig {
			if err := keepCopy(o, path); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(o.Out, "%s %s%s%s\n", verb, path, changed, restoreNote(e))
	if o.DryRun {
		return nil
	}
	return restore(o.Root, e)
}

// keepCopy keeps an edited wrapper configuration beside it, under a
// name the wrapper does not read: the edit is the admin's, but the file
// itself goes, or gives way to the one the install replaced. A hard
// link keeps content, mode and owner, and never replaces an older copy.
func keepCopy(o Options, path string) error {
	for i := 0; ; i++ {
		name := path + ".edited"
		if i > 0 {
			name += fmt.Sprintf(".%d", i)
		}
		err := claim(o.DryRun, path, name)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("keep a copy of the edited %s: %w", path, err)
		}
		verb := "keep"
		if o.DryRun {
			verb = "would keep"
		}
		fmt.Fprintf(o.Out, "%s a copy of %s as %s: changed since it was installed; "+
			"your settings stay there, where the wrapper does not read them\n", verb, path, name)
		return nil
	}
}

// claim links path as name; a dry run only looks whether name is free.
// Either returns os.ErrExist when it is taken.
func claim(dryRun bool, path, name string) error {
	if !dryRun {
		return os.Link(path, name)
	}
	_, err := os.Lstat(name)
	switch {
	case err == nil:
		return os.ErrExist
	case errors.Is(err, os.ErrNotExist):
		return nil
	}
	return err
}

// removeDirs removes the directories the installer created, deepest
// first; one that still holds someone's files stays, and says so.
func removeDirs(o Options, dirs []string) {
	for i := len(dirs) - 1; i >= 0; i-- {
		path := onNode(o.Root, dirs[i])
		if o.DryRun {
			fmt.Fprintf(o.Out, "would remove directory %s if empty\n", path)
			continue
		}
		entries, err := os.ReadDir(path)
		switch {
		case os.IsNotExist(err):
		case len(entries) > 0:
			fmt.Fprintf(o.Out, "keep directory %s: it holds files the installer did not write\n", path)
		default:
			if err := os.Remove(path); err != nil {
				fmt.Fprintf(o.Out, "cannot remove directory %s: %v\n", path, err)
			}
		}
	}
}
