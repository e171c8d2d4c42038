// Package tally counts the events of short-lived processes (the runtime
// wrapper runs once per runc call) so a long-lived one (the NRI plugin's
// metrics endpoint) can report them. Each counter is a file; an event
// appends one byte, so the count is the file's size. A one-byte O_APPEND
// write is atomic: concurrent wrappers never lose or merge a count, and
// no lock or daemon is needed on the wrapper's path. The files live on
// /run (tmpfs): they start again at a reboot, as the plugin's own
// counters do, and a million events take a megabyte.
package tally

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Add counts one event of name in dir, creating both as needed.
func Add(dir, name string) error { return AddN(dir, name, 1) }

// AddN counts n events at once: one write of n bytes, atomic as one.
func AddN(dir, name string, n int64) error {
	if n <= 0 || n > 1<<20 {
		return errors.New("tally: bad count")
	}
	if !validName(name) {
		return errors.New("tally: bad counter name " + name)
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		}
	}
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(strings.Repeat(".", int(n))))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Count is one counter's value; a missing one is 0.
func Count(dir, name string) int64 {
	info, err := os.Stat(filepath.Join(dir, name))
	if err != nil || !validName(name) {
		return 0
	}
	return info.Size()
}

// Read returns every counter in dir; a missing dir holds none.
func Read(dir string) (map[string]int64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() || !validName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out[e.Name()] = info.Size()
	}
	return out, nil
}

// validName keeps counters to one plain path element.
func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\x00") && name != "." && name != ".." && !strings.HasPrefix(name, ".")
}

// DroppedLines are the decision log's hooks (decisionlog.File's Pending
// and Reported) for the lines runtime wrappers could not write, counted
// in dir as log-dropped: whoever writes the log next, the plugin or a
// wrapper, says them, and they are marked as said.
func DroppedLines(dir string) (pending func() int64, reported func(int64)) {
	pending = func() int64 { return Count(dir, "log-dropped") - Count(dir, "log-dropped-reported") }
	reported = func(n int64) { AddN(dir, "log-dropped-reported", n) }
	return pending, reported
}
