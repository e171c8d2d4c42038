package install

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

type verb string

const (
	create    verb = "create"
	update    verb = "update"    // the installer's own file, new content
	replace   verb = "replace"   // someone else's file: backed up, then written
	unchanged verb = "unchanged" // already as planned
	kept      verb = "keep"      // left as it is (see file.why)
	remove    verb = "remove"    // written by an earlier install, no longer planned
)

// action is one step of an install, decided before anything is written
// so that a refusal leaves the node untouched.
type action struct {
	verb verb
	f    file
	cur  []byte // what is on disk now; nil when nothing is
	note string
	old  *entry // the manifest's record, if the installer wrote it before
}

// decide compares one planned file with the node and the manifest.
func decide(root string, f file, m *manifest) (action, error) {
	a := action{f: f, old: m.find(f.path)}
	cur, err := os.ReadFile(onNode(root, f.path))
	switch {
	case errors.Is(err, os.ErrNotExist):
		a.verb = create
		return a, nil
	case err != nil:
		return a, err
	}
	a.cur = cur
	fi, err := os.Stat(onNode(root, f.path))
	if err != nil {
		return a, err
	}
	ours := a.old != nil && hashOf(cur) == a.old.SHA256
	switch {
	case ours && bytes.Equal(cur, f.data) && fi.Mode().Perm() == f.mode:
		a.verb = unchanged
	case ours:
		a.verb = update
	case a.old != nil && f.keepEdit != "":
		a.verb, a.note = kept, f.keepEdit
	case a.old != nil && f.foreign == backUp:
		// The installer's file, edited since: its content is the
		// installer's to set, and any original stays backed up.
		a.verb, a.note = update, "changed since it was installed; written again"
	case f.foreign == keep:
		a.verb, a.note = kept, f.why
	case f.foreign == refuse && a.old != nil:
		return a, fmt.Errorf("refusing to replace %s: it was changed since nri-guard installed it; "+
			"move your change to a file of your own, or remove the file, then install again", onNode(root, f.path))
	case f.foreign == refuse:
		return a, fmt.Errorf("refusing to replace %s: %s", onNode(root, f.path), f.why)
	default:
		a.verb, a.note = replace, "someone else's file: backed up, and put back by `nri-guard uninstall k3s`"
	}
	return a, nil
}

// planActions decides every step: the planned files, then the removal of
// files an earlier install wrote that this node no longer needs (the
// user template after K3s gained drop-ins, for instance).
func planActions(root string, files []file, m *manifest) ([]action, error) {
	var out []action
	planned := map[string]bool{}
	for _, f := range files {
		a, err := decide(root, f, m)
		if err != nil {
			return nil, err
		}
		planned[f.path] = true
		out = append(out, a)
	}
	for i := range m.Files {
		if e := &m.Files[i]; !planned[e.Path] {
			out = append(out, action{verb: remove, f: file{path: e.Path}, old: e})
		}
	}
	return out, nil
}
