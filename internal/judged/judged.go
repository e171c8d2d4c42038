// Package judged keeps the runtime wrapper's mark on every container it
// judged and let start, so that `nri-guard status` can name the running
// containers no guard judged: those created outside CRI (`ctr run`,
// nerdctl, `k3s ctr`), whose shim runs the runc on PATH rather than the
// wrapper, or under a runtime the wrapper does not stand in for.
//
// A mark is a file named by the container ID in a root-only directory on
// /run (tmpfs: marks go with the containers at a reboot). It records the
// runc root the container lives under, so status knows where to look.
// The wrapper removes a mark when runc deletes the container; status
// ignores marks whose container is gone.
package judged

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/runcstate"
)

// DefaultDir is where the wrapper keeps its marks.
var DefaultDir = layout.Node().Judged

// DefaultRoots are the runc roots status scans besides the ones marks
// name: containerd's runc shim keeps every namespace's containers below
// /run/containerd/runc/<namespace>.
var DefaultRoots = []string{"/run/containerd/runc/*"}

// Mark is what the wrapper records of a container it judged.
type Mark struct {
	Root   string    `json:"root"`
	Action string    `json:"action"`
	At     time.Time `json:"at"`
}

// runc's own rule for container IDs; anything else could name a path
// outside the directory.
var validID = regexp.MustCompile(`^[\w+\-.]+$`)

func markPath(dir, id string) (string, error) {
	if !validID.MatchString(id) || id == "." || id == ".." {
		return "", fmt.Errorf("container id %q is not one runc accepts", id)
	}
	return filepath.Join(dir, id), nil
}

// Write records that the container id under runc root was judged.
func Write(dir, id string, m Mark) error {
	path, err := markPath(dir, id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// Remove forgets the container's mark; a missing mark is not an error.
func Remove(dir, id string) error {
	path, err := markPath(dir, id)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Unjudged is a running container without a mark.
type Unjudged struct {
	ID, Root, Bundle string
}

// FindUnjudged lists the running containers under the given runc roots
// (globs allowed) and the roots named by marks in dir that have no mark.
func FindUnjudged(dir string, roots []string) ([]Unjudged, error) {
	marks, err := readMarks(dir)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, pattern := range roots {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("runc root %q: %w", pattern, err)
		}
		all = append(all, matches...)
	}
	for _, m := range marks {
		all = append(all, m.Root)
	}
	slices.Sort(all)
	var out []Unjudged
	for _, root := range slices.Compact(all) {
		states, err := runcstate.List(root)
		if err != nil {
			return nil, err
		}
		for _, st := range states {
			if _, ok := marks[st.ID]; ok || !st.Running() {
				continue
			}
			out = append(out, Unjudged{ID: st.ID, Root: root, Bundle: st.Bundle()})
		}
	}
	return out, nil
}

func readMarks(dir string) (map[string]Mark, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	marks := make(map[string]Mark, len(entries))
	for _, e := range entries {
		var m Mark
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || json.Unmarshal(data, &m) != nil {
			continue // half-written or removed meanwhile: its container is judged again below
		}
		marks[e.Name()] = m
	}
	return marks, nil
}
