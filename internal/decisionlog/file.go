package decisionlog

import (
	"errors"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// File is the decision log on disk, written by many processes at once:
// the NRI plugin and a runtime wrapper per runc call. Each line is one
// write(2) under an exclusive lock on the lock file beside it, which
// rotation takes too, so no writer has the file open while it is renamed,
// no line is lost or split across two files, and a line cut short by a
// full disk is removed without touching another's. Every writer
// opens the file for each line: after a rotation the next line goes to
// the new file.
type File struct {
	Path string
	// MaxBytes rotates the file once it grows past this size; 0 never.
	MaxBytes int64
	// Keep is how many rotated files (Path.1 ... Path.Keep) are kept.
	Keep int

	// Pending, when set, is asked under the log's lock for lines other
	// processes dropped and nobody has reported yet (the runtime
	// wrapper's, kept in its tallies); after the report is written,
	// Reported is told how many it covered. Under the one lock, two
	// writers never report the same lines.
	Pending  func() int64
	Reported func(n int64)

	mu      sync.Mutex
	dropped int64 // lines not written since the last one that was
}

// DefaultMaxBytes and DefaultKeep bound the log at about 6 × 20 MB.
const (
	DefaultMaxBytes = 20 << 20
	DefaultKeep     = 5
)

// WriteLine appends one line (without its newline). A line that cannot be
// written is counted; the next line that can be is preceded by a record
// saying how many were dropped, so a full disk never stops decisions and
// never loses them silently.
func (f *File) WriteLine(line []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	size, err := f.appendLocked(append(line, '\n'))
	if err != nil {
		f.dropped++
		return err
	}
	f.dropped = 0
	if f.MaxBytes > 0 && size > f.MaxBytes {
		if err := f.rotate(); err != nil {
			return &RotateError{Err: err}
		}
	}
	return nil
}

// RotateError says the line was written but the file could not be
// rotated: nothing was dropped, the file grows past its bound until a
// later rotation succeeds.
type RotateError struct{ Err error }

func (e *RotateError) Error() string { return "rotating the decision log: " + e.Err.Error() }
func (e *RotateError) Unwrap() error { return e.Err }

// Dropped is how many lines wait to be reported as dropped.
func (f *File) Dropped() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

func droppedLine(n int64) []byte {
	return []byte(`{"schemaVersion":` + strconv.Itoa(SchemaVersion) + `,"phase":"log","action":"dropped","dropped":` + strconv.FormatInt(n, 10) +
		`,"message":"` + strconv.FormatInt(n, 10) + ` decision lines could not be written (disk full or unwritable)"}` + "\n")
}

// appendLocked writes data in one write under the exclusive lock and
// returns the file's size after it. Exclusive, not shared: a write cut
// short (a full disk) is cut off again by size, which is exact only while
// no other writer (the plugin, a wrapper) can append behind it. A line is
// a few hundred bytes, so writers wait microseconds.
func (f *File) appendLocked(line []byte) (int64, error) {
	unlock, err := f.lock(unix.LOCK_EX)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var others int64
	if f.Pending != nil {
		others = max(f.Pending(), 0)
	}
	data := line
	if n := f.dropped + others; n > 0 {
		data = append(droppedLine(n), line...)
	}
	out, err := os.OpenFile(f.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return 0, err
	}
	n, err := out.Write(data)
	if err == nil && n < len(data) {
		err = errors.New("short write")
	}
	if err != nil {
		// A partial line would break the JSON of the next: cut it off.
		if fi, serr := out.Stat(); serr == nil && n > 0 {
			out.Truncate(fi.Size() - int64(n))
		}
		out.Close()
		return 0, err
	}
	if others > 0 && f.Reported != nil {
		f.Reported(others)
	}
	fi, err := out.Stat()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// rotate shifts Path.N to Path.N+1 (dropping the oldest) and Path to
// Path.1, unless another writer rotated first.
func (f *File) rotate() error {
	unlock, err := f.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	fi, err := os.Stat(f.Path)
	if err != nil || fi.Size() <= f.MaxBytes {
		return nil // rotated by someone else meanwhile
	}
	keep := max(f.Keep, 1)
	old := func(i int) string { return f.Path + "." + strconv.Itoa(i) }
	n := 0 // rotated files there now: Path.1 ... Path.n
	for n < keep {
		if _, err := os.Lstat(old(n + 1)); err != nil {
			break
		}
		n++
	}
	if n == keep {
		os.Remove(old(keep))
		n--
	}
	for i := n; i >= 1; i-- {
		os.Rename(old(i), old(i+1))
	}
	return os.Rename(f.Path, old(1))
}

// lock takes the lock file beside the log in the given mode.
func (f *File) lock(how int) (func(), error) {
	lf, err := os.OpenFile(f.Path+".lock", os.O_CREATE|os.O_RDONLY, 0o640)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(lf.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		lf.Close()
		return nil, err
	}
	return func() { lf.Close() }, nil // closing releases the lock
}
