// Package record is how the NRI plugin tells the runtime wrapper what it
// decided for a container and who the container is. The plugin sees pod
// labels and so picks the exception; the wrapper, which sees only the OCI
// spec, must trust that choice, but a CRI client sets its own annotations
// and a later NRI plugin can rewrite any of them. So the record is an HMAC
// over the container ID, the choice and the container's identity (type,
// pod sandbox, namespace, pod, container, image), with a key only root on
// the node can read: it cannot be forged, and copying it to another
// container does not verify.
//
// Format v3 (written since the pod UID was added):
// "v3.<exception>.<type>.<sandbox id>.<namespace>.<pod>.<container>.<image>.<pod uid>.<mac>",
// each part unpadded URL-safe base64. v2 (the same without the pod UID)
// and v1 ("v1.<exception>.<mac>", no identity) still verify, so
// containers created before an upgrade keep their exception; the wrapper
// then reads what the record lacks from the spec, and credits no pod
// directory on a UID the record does not vouch for.
package record

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Annotation is the OCI annotation that carries the record.
const Annotation = "nri-guard.io/decision"

const (
	v1 = "v1"
	v2 = "v2"
	v3 = "v3"
)

// Record is the plugin's decision the wrapper acts on.
type Record struct {
	ContainerID string
	// Exception is the name of the policy exception that applied, or "".
	Exception string
	// Identity is who the container is, as the NRI plugin saw it. Only v2
	// records carry it; Version says which one verified.
	Identity Identity
	Version  int
}

// Identity is what the wrapper would otherwise read from annotations.
type Identity struct {
	// Type is "container": the NRI plugin writes records only for app
	// containers, so a container with one is never a pod sandbox.
	Type      string
	SandboxID string
	Namespace string
	Pod       string
	Container string
	Image     string
	// PodUID is the pod UID the plugin vouches for: no other live sandbox
	// claimed it. "" when it does not vouch (and in v1/v2 records).
	PodUID string
}

// TypeContainer is the only Type the NRI plugin writes.
const TypeContainer = "container"

// Strict: one record has exactly one encoding (trailing bits must be zero).
var enc = base64.RawURLEncoding.Strict()

// Sign returns the annotation value for r, in format v3.
func Sign(key []byte, r Record) string {
	parts := append([]string{v3}, encodeAll(r.fields(v3)...)...)
	return strings.Join(append(parts, enc.EncodeToString(macFields(key, v3, r))), ".")
}

// fields are the signed parts of a v2 or v3 record after the container ID.
func (r Record) fields(version string) []string {
	id := r.Identity
	f := []string{r.Exception, id.Type, id.SandboxID, id.Namespace, id.Pod, id.Container, id.Image}
	if version == v3 {
		f = append(f, id.PodUID)
	}
	return f
}

func encodeAll(items ...string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = enc.EncodeToString([]byte(s))
	}
	return out
}

// macFields length-prefixes every field, so no two records share an
// input; the version is part of it, so a v3 record cannot pass as v2.
func macFields(key []byte, version string, r Record) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("nri-guard/" + version + "\x00"))
	for _, f := range append([]string{r.ContainerID}, r.fields(version)...) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

func macV1(key []byte, r Record) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("nri-guard/" + v1 + "\x00" + r.ContainerID + "\x00" + r.Exception))
	return h.Sum(nil)
}

// signV2 is the format before the pod UID, for tests of what older
// plugins wrote.
func signV2(key []byte, r Record) string {
	parts := append([]string{v2}, encodeAll(r.fields(v2)...)...)
	return strings.Join(append(parts, enc.EncodeToString(macFields(key, v2, r))), ".")
}

// signV1 is the old format, for tests of what older plugins wrote.
func signV1(key []byte, r Record) string {
	return v1 + "." + enc.EncodeToString([]byte(r.Exception)) + "." + enc.EncodeToString(macV1(key, r))
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
	var want int
	switch parts[0] {
	case v1:
		want = 3
	case v2:
		want = 9
	case v3:
		want = 10
	default:
		return Record{}, ErrMalformed
	}
	if len(parts) != want {
		return Record{}, ErrMalformed
	}
	decoded := make([]string, want-1)
	for i, p := range parts[1:] {
		b, ok := decode(p)
		if !ok {
			return Record{}, ErrMalformed
		}
		decoded[i] = string(b)
	}
	sum := []byte(decoded[len(decoded)-1])
	r := Record{ContainerID: containerID, Exception: decoded[0], Version: 1}
	var mac []byte
	switch d := decoded; parts[0] {
	case v1:
		mac = macV1(key, r)
	case v2, v3:
		r.Version, r.Identity = 2, Identity{Type: d[1], SandboxID: d[2], Namespace: d[3], Pod: d[4], Container: d[5], Image: d[6]}
		if parts[0] == v3 {
			r.Version, r.Identity.PodUID = 3, d[7]
		}
		mac = macFields(key, parts[0], r)
	}
	if !hmac.Equal(sum, mac) {
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

// SignV1ForTest writes a v1 record, as NRI plugins before the identity
// was signed did: for tests of the upgrade path only.
func SignV1ForTest(key []byte, r Record) string { return signV1(key, r) }
