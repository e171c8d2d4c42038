// Package runcstate reads what runc keeps about its containers under its
// root directory (<root>/<id>/state.json): the init process, and the
// bundle the container was created from. It trusts a pid only together
// with the start time runc recorded for it, since a pid alone may name
// another process once the container's has exited.
package runcstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// State is the part of runc's state.json nri-guard reads.
type State struct {
	ID      string `json:"id"`
	InitPID int    `json:"init_process_pid"`
	// InitStart is the init process's start time (clock ticks since
	// boot, /proc/<pid>/stat field 22).
	InitStart uint64 `json:"init_process_start"`
	Config    struct {
		Labels []string `json:"labels"`
	} `json:"config"`
}

// Read reads the state of container id under runc root.
func Read(root, id string) (State, error) {
	var st State
	raw, err := os.ReadFile(filepath.Join(root, id, "state.json"))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("%s: %w", filepath.Join(root, id, "state.json"), err)
	}
	if st.ID == "" {
		st.ID = id
	}
	return st, nil
}

// List reads every container under root; a root that does not exist
// holds none. Entries whose state cannot be read are skipped: runc
// removes a container's directory while it is being deleted.
func List(root string) ([]State, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []State
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if st, err := Read(root, e.Name()); err == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// Bundle is the directory the container was created from ("" if runc did
// not record it).
func (st State) Bundle() string {
	for _, l := range st.Config.Labels {
		if b, ok := strings.CutPrefix(l, "bundle="); ok {
			return b
		}
	}
	return ""
}

// Running reports whether the container's init process is still the one
// runc started: the pid exists and has the recorded start time.
func (st State) Running() bool {
	if st.InitPID <= 0 {
		return false
	}
	start, err := ProcessStart(st.InitPID)
	return err == nil && start == st.InitStart
}

// ProcessStart reads a process's start time from /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses, so the fields
// are counted from the last ')'.
func ProcessStart(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); the start time is field 22.
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}
