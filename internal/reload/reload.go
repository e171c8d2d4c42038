// Package reload re-reads the node policy when its files change, so an
// operator's drop-in takes effect without a restart. A policy that fails
// to load never replaces the one in force: the last good policy stays,
// and the error (with file and line) is reported.
package reload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/policy"
)

// Watcher polls the policy file and drop-in directory. Polling, not
// inotify: editors replace files by rename, drop-in directories appear
// and vanish, and a stat of a handful of files every second costs nothing.
type Watcher struct {
	File, Dir string
	Interval  time.Duration
	// Apply installs a policy that loaded; Failed reports one that did not.
	Apply  func(*policy.Policy, controls.Profiles)
	Failed func(error)
	last   [32]byte
}

// Run polls until ctx ends. The first poll only records the state: the
// caller loaded the policy in force already.
func (w *Watcher) Run(ctx context.Context) {
	w.last = w.fingerprint()
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Poll()
		}
	}
}

// Poll checks once and reloads if anything changed.
func (w *Watcher) Poll() {
	fp := w.fingerprint()
	if fp == w.last {
		return
	}
	w.last = fp
	pol, env, err := loader.Load(w.File, loader.ExistingDir(w.Dir))
	if err != nil {
		w.Failed(err)
		return
	}
	w.Apply(pol, env)
}

// fingerprint hashes the contents of every file that makes the policy,
// so a change of any of them (or a file added or removed) is seen.
func (w *Watcher) fingerprint() [32]byte {
	h := sha256.New()
	files := []string{w.File}
	if entries, err := os.ReadDir(w.Dir); err == nil {
		for _, e := range entries {
			files = append(files, filepath.Join(w.Dir, e.Name()))
		}
	}
	slices.Sort(files[1:])
	for _, f := range files {
		h.Write([]byte(f + "\x00"))
		// At most what a policy file may hold, and its size and time: a
		// huge file in the drop-in directory is not read whole at every
		// poll, and its change still shows.
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(h, "%d %d\x00", fi.Size(), fi.ModTime().UnixNano())
		}
		if in, err := os.Open(f); err == nil {
			io.Copy(h, io.LimitReader(in, policy.MaxFileBytes+1))
			in.Close()
		}
		h.Write([]byte{0})
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
