package reload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nri-guard/nri-guard/internal/jsonpos"
	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/runcstate"
)

// DefaultStatusPath is where the plugin writes its status unless told
// otherwise: /run, because it describes the running process.
var DefaultStatusPath = layout.Node().Status

// Status is what the running plugin says about its policy, for
// `nri-guard status`: which files are in force, and the last change that
// did not load (with file and line), which the plugin otherwise only logs.
type Status struct {
	PID int `json:"pid"`
	// PIDStart is the process's start time (clock ticks since boot): a pid
	// is the plugin's only if the process with it started then.
	PIDStart uint64 `json:"pidStart,omitempty"`
	// PolicyFile and PolicyDir are what the plugin watches.
	PolicyFile string `json:"policyFile"`
	PolicyDir  string `json:"policyDir,omitempty"`
	// InForce lists the files of the policy in force, Fingerprint hashes
	// their contents; both are empty while no policy has loaded.
	InForce     []string  `json:"inForce,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	LoadedAt    time.Time `json:"loadedAt,omitzero"`
	// LastError is the last load that failed since the policy in force
	// loaded; a load that succeeds clears it.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	Runtime     string    `json:"runtime,omitempty"`
}

// StatusFile keeps a Status on disk, replaced whole at every change. A
// nil *StatusFile does nothing, so callers need not check.
type StatusFile struct {
	path string
	mu   sync.Mutex
	s    Status
}

// NewStatusFile reports on the policy read from file and dir; "" as path
// reports nothing.
func NewStatusFile(path, file, dir string) *StatusFile {
	if path == "" {
		return nil
	}
	start, _ := runcstate.ProcessStart(os.Getpid())
	return &StatusFile{path: path, s: Status{PID: os.Getpid(), PIDStart: start, PolicyFile: file, PolicyDir: dir}}
}

// Snapshot is the status as it is now.
func (f *StatusFile) Snapshot() Status {
	if f == nil {
		return Status{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.s
	s.InForce = append([]string(nil), f.s.InForce...)
	return s
}

// Loaded records a policy that loaded and is now in force.
func (f *StatusFile) Loaded(pol *policy.Policy) error {
	return f.update(func(s *Status) {
		s.InForce, s.Fingerprint, s.LoadedAt = pol.Files, pol.Digest, time.Now().UTC()
		s.LastError, s.LastErrorAt = "", time.Time{}
	})
}

// Failed records a load that failed; the policy in force stays.
func (f *StatusFile) Failed(err error) error {
	return f.update(func(s *Status) { s.LastError, s.LastErrorAt = err.Error(), time.Now().UTC() })
}

// Connected records the runtime the plugin registered with.
func (f *StatusFile) Connected(runtime string) error {
	return f.update(func(s *Status) { s.Runtime = runtime })
}

func (f *StatusFile) update(change func(*Status)) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.s)
	data, err := json.MarshalIndent(f.s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return err
	}
	// Written aside and renamed: a reader never sees half a status.
	tmp := f.path + ".new"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

// ReadStatus reads a status file.
func ReadStatus(path string) (Status, error) {
	var s Status
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, jsonpos.Error(path, data, err)
	}
	return s, nil
}
