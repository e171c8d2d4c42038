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
func Add(dir, name string) error {
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
	_, err = f.Write([]byte{'.'})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
