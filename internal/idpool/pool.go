// Package idpool hands out the node's user namespace id ranges: one block
// of host uids/gids per pod, never shared, never below the pool's floor,
// kept on disk so a restart of anything (the guard, containerd, the node)
// does not give a running pod's ids to another pod.
//
// Every runc call is its own wrapper process, so the pool is a file
// guarded by an exclusive lock, replaced atomically on every change: a
// crash at any point leaves either the old state or the new one.
package idpool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/nri-guard/nri-guard/internal/layout"
)

// RangeSize is the number of ids each pod gets: 65536 covers every uid
// and gid an image can name (0-65535), as Kubernetes' own user
// namespaces do.
const RangeSize = 65536

// Config is where the pool lives and which host ids it may give out.
type Config struct {
	// State is the pool's file; its directory holds the lock file too.
	State string `yaml:"state"`
	// First is the floor: the lowest host id the pool gives out.
	First uint32 `yaml:"first"`
	// Count is how many ranges of RangeSize ids follow First.
	Count uint32 `yaml:"count"`
}

// DefaultConfig puts the pool at 0x70000000 (just above systemd's
// container range, which ends at 0x6FFFFFFF) with 4096 ranges, so the
// highest id is 2^31-1: ids stay positive for tools that read them as
// signed 32-bit numbers.
func DefaultConfig() Config {
	return Config{State: layout.Node().UserNamespacePool, First: 0x70000000, Count: 4096}
}

// Validate reports a pool that would give out ids above the 32-bit limit
// or none at all.
func (c Config) Validate() error {
	switch {
	case c.State == "" || !filepath.IsAbs(c.State):
		return fmt.Errorf("userNamespacePool.state must be an absolute path, got %q", c.State)
	case c.Count == 0:
		return errors.New("userNamespacePool.count must be at least 1")
	case c.First < MinFirst:
		// A pool that hands out the node's own ids (host root at worst)
		// would make the wrapper's user namespaces root-to-root ones.
		return fmt.Errorf("userNamespacePool.first must be at least %d (ids below belong to the node's own users), got %d", MinFirst, c.First)
	case uint64(c.First)+uint64(c.Count)*RangeSize > 1<<32-1:
		return fmt.Errorf("userNamespacePool: %d ranges of %d from %d pass the highest id 4294967294", c.Count, RangeSize, c.First)
	}
	return nil
}

// MinFirst is the lowest floor a pool may have: the first host id
// kubelet hands out (policy.DefaultMinHostID).
const MinFirst = 65536

// Range is one pod's block of host ids: container id 0 is host id Start.
type Range struct {
	Start uint32 `json:"start"`
}

// Entry is one range in use.
type Entry struct {
	Owner string `json:"owner"`
	Range
	// Since is when it was handed out; young entries are never swept,
	// because their owner may not exist yet.
	Since time.Time `json:"since"`
	// Root is the owner's runc state directory, where the sweep looks
	// for it.
	Root string `json:"root,omitempty"`
	// Note says who the owner is, for people reading the file.
	Note string `json:"note,omitempty"`
}

type state struct {
	Entries []Entry `json:"entries"`
}

// ErrExhausted is returned when every range is in use.
var ErrExhausted = errors.New("user namespace id pool exhausted")

// Pool is an open, locked pool file. Open it, make changes, Close it.
type Pool struct {
	cfg   Config
	lock  *os.File
	state state
}

// Open locks the pool file (waiting for other wrapper processes) and
// reads it. A missing file is an empty pool; an unreadable one is an
// error, never an empty pool, because that would hand out ranges twice.
func Open(cfg Config) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.State), 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(cfg.State+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	p := &Pool{cfg: cfg, lock: lock}
	if err := p.read(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Pool) read() error {
	entries, err := ReadEntries(p.cfg.State)
	p.state.Entries = entries
	return err
}

// ErrCorrupt marks a pool file that does not parse.
var ErrCorrupt = errors.New("not a user namespace pool")

// ReadEntries reads the ranges in use from a pool file without locking it
// or creating anything, for reports; a missing file holds none. Changes
// go through Open.
func ReadEntries(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w: %w (fix or remove it only once no pod uses its ranges)", path, ErrCorrupt, err)
	}
	return st.Entries, nil
}

// Close releases the lock.
func (p *Pool) Close() error {
	return p.lock.Close()
}

// Lookup returns owner's range.
func (p *Pool) Lookup(owner string) (Range, bool) {
	for _, e := range p.state.Entries {
		if e.Owner == owner {
			return e.Range, true
		}
	}
	return Range{}, false
}

// Allocate gives owner a range of its own, or the one it already has
// (a retried create must not take a second range), and saves the pool.
func (p *Pool) Allocate(owner, root, note string, now time.Time) (Range, error) {
	if r, ok := p.Lookup(owner); ok {
		return r, nil
	}
	start, ok := p.free()
	if !ok {
		return Range{}, fmt.Errorf("%w: all %d ranges of %d ids from %d are in use; raise userNamespacePool.count in the runtime wrapper's configuration or remove pods",
			ErrExhausted, p.cfg.Count, RangeSize, p.cfg.First)
	}
	e := Entry{Owner: owner, Range: Range{Start: start}, Since: now.UTC(), Root: root, Note: note}
	p.state.Entries = append(p.state.Entries, e)
	if err := p.save(); err != nil {
		p.state.Entries = p.state.Entries[:len(p.state.Entries)-1]
		return Range{}, err
	}
	return e.Range, nil
}

// free finds the lowest range that overlaps no entry. Entries are
// compared by host ids, not by index, so a pool whose first or count
// changed never gives out ids a running pod still holds.
func (p *Pool) free() (uint32, bool) {
	used := make([]uint32, 0, len(p.state.Entries))
	for _, e := range p.state.Entries {
		used = append(used, e.Start)
	}
	sort.Slice(used, func(i, j int) bool { return used[i] < used[j] })
	for i := uint32(0); i < p.cfg.Count; i++ {
		start := p.cfg.First + i*RangeSize
		if !overlapsAny(start, used) {
			return start, true
		}
	}
	return 0, false
}

func overlapsAny(start uint32, used []uint32) bool {
	for _, u := range used {
		if uint64(start) < uint64(u)+RangeSize && uint64(u) < uint64(start)+RangeSize {
			return true
		}
	}
	return false
}

// Release returns owner's range to the pool; releasing what is not held
// is not an error (a delete may run twice).
func (p *Pool) Release(owner string) error {
	for i, e := range p.state.Entries {
		if e.Owner == owner {
			p.state.Entries = append(p.state.Entries[:i:i], p.state.Entries[i+1:]...)
			return p.save()
		}
	}
	return nil
}

// Sweep releases every entry older than minAge whose owner gone reports
// as gone: the backstop for a pod whose delete never reached the wrapper.
func (p *Pool) Sweep(minAge time.Duration, now time.Time, gone func(Entry) bool) ([]Entry, error) {
	var kept, swept []Entry
	for _, e := range p.state.Entries {
		if now.Sub(e.Since) >= minAge && gone(e) {
			swept = append(swept, e)
		} else {
			kept = append(kept, e)
		}
	}
	if len(swept) == 0 {
		return nil, nil
	}
	p.state.Entries = kept
	return swept, p.save()
}

// Entries returns the ranges in use.
func (p *Pool) Entries() []Entry {
	return append([]Entry(nil), p.state.Entries...)
}

// crashBeforeRename lets the crash test stop a save between writing the
// new state and putting it in place.
var crashBeforeRename = func() error { return nil }

// save writes the state to a temporary file, flushes it to disk and
// renames it over the old one, then flushes the directory, so the file
// on disk is always one whole state.
func (p *Pool) save() error {
	data, err := json.MarshalIndent(&p.state, "", "  ")
	if err != nil {
		return err
	}
	tmp := p.cfg.State + ".tmp"
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := crashBeforeRename(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p.cfg.State); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p.cfg.State))
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
