// Package record is how the NRI plugin tells the runtime wrapper what it
// decided for a container. The plugin sees pod labels and so picks the
// exception; the wrapper, which sees only the OCI spec, must trust that
// choice, but a CRI client sets its own annotations. So the record is an
// HMAC over the container ID and the choice, with a key only root on the
// node can read: it cannot be forged, and copying it to another container
// does not verify.
package record

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Annotation is the OCI annotation that carries the record.
const Annotation = "nri-guard.io/decision"

const version = "v1"

// Record is the plugin's decision the wrapper acts on.
type Record struct {
	ContainerID string
	// Exception is the name of the policy exception that applied, or "".
	Exception string
}

// Strict: one record has exactly one encoding (trailing bits must be zero).
var enc = base64.RawURLEncoding.Strict()

// Sign returns the annotation value for r.
func Sign(key []byte, r Record) string {
	return version + "." + enc.EncodeToString([]byte(r.Exception)) + "." + enc.EncodeToString(mac(key, r))
}

func mac(key []byte, r Record) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("nri-guard/" + version + "\x00" + r.ContainerID + "\x00" + r.Exception))
	return h.Sum(nil)
}

// Errors Verify returns; the wrapper logs which one made it strict.
var (
	ErrMissing   = errors.New("no decision record (created outside CRI, or while the NRI plugin was down or timed out)")
	ErrMalformed = errors.New("malformed decision record")
	ErrForged    = errors.New("decision record does not verify for this container (forged, or copied from another container)")
)

// Verify checks the annotation value for containerID.
func Verify(key []byte, containerID, value string) (Record, error) {
	if value == "" {
		return Record{}, ErrMissing
	}
	parts := strings.Split(value, ".")
	if len(parts) != 3 || parts[0] != version {
		return Record{}, ErrMalformed
	}
	exc, ok1 := decode(parts[1])
	sum, ok2 := decode(parts[2])
	if !ok1 || !ok2 {
		return Record{}, ErrMalformed
	}
	r := Record{ContainerID: containerID, Exception: string(exc)}
	if !hmac.Equal(sum, mac(key, r)) {
		return Record{}, ErrForged
	}
	return r, nil
}

// decode accepts only the canonical encoding, so a record has exactly one
// valid spelling: Go's decoder would also take line breaks and non-zero
// trailing bits.
func decode(part string) ([]byte, bool) {
	b, err := enc.DecodeString(part)
	return b, err == nil && enc.EncodeToString(b) == part
}

// KeySize is the length of the signing key in bytes.
const KeySize = 32

// LoadOrCreateKey reads the node's key, creating it (root-only) if it
// does not exist yet. The NRI plugin calls it at start.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: if the wrapper's node raced us, keep the first key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// LoadKey reads the key and insists that only its owner can read it: a
// key others can read lets them forge records.
func LoadKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("decision record key %s is readable by others (mode %v); it must be 0600", path, fi.Mode().Perm())
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("decision record key %s has %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}
