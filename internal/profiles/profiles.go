// Package profiles loads and checks seccomp profiles: the built-in
// default (profiles/seccomp/default.json, embedded in the binary) and any
// profile a policy names. Checking is strict because a profile is
// security policy: a misspelt system call, action or field would
// otherwise be dropped silently by the runtime and leave a hole in the
// filter, or refuse a call nobody meant to refuse.
package profiles

//go:generate go run ./seccompgen/cmd -o ../../profiles/seccomp/default.json ../../profiles/seccomp/default.yaml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	data "github.com/nri-guard/nri-guard/profiles"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultPath names the built-in profile in messages: its path in the
// source tree, where a reader can find it.
const DefaultPath = "profiles/seccomp/default.json"

// maxProblems bounds how many problems one error lists; past that the
// first ones are enough to start fixing.
const maxProblems = 10

// DefaultSeccomp returns the built-in default profile, freshly decoded so
// the caller may change it.
func DefaultSeccomp() (*specs.LinuxSeccomp, error) {
	raw, err := data.FS.ReadFile("seccomp/default.json")
	if err != nil {
		return nil, fmt.Errorf("built-in seccomp profile: %w", err)
	}
	return ParseSeccomp(DefaultPath, raw)
}

// LoadSeccomp reads and checks the profile at path.
func LoadSeccomp(path string) (*specs.LinuxSeccomp, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSeccomp(path, raw)
}

// ParseSeccomp decodes a profile in the OCI LinuxSeccomp JSON form and
// checks it. name is used in errors, which read
// "name:line:col: path: problem", one line per problem.
func ParseSeccomp(name string, raw []byte) (*specs.LinuxSeccomp, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%s: empty file: a seccomp profile is a JSON object", name)
	}
	idx, p := scan(raw)
	if p != nil {
		return nil, report(name, raw, []problem{*p})
	}
	var prof specs.LinuxSeccomp
	if err := decode(raw, &prof); err != nil {
		return nil, report(name, raw, []problem{idx.typeProblem(err)})
	}
	probs := validate(&prof)
	if len(probs) > 0 {
		for i := range probs {
			idx.place(&probs[i])
		}
		return nil, report(name, raw, probs)
	}
	return &prof, nil
}

// decode is the second pass: types and ranges. scan has already refused
// unknown fields; DisallowUnknownFields stays as a second lock.
func decode(raw []byte, prof *specs.LinuxSeccomp) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(prof)
}

// problem is one thing wrong with a profile: the JSON path it is about
// ("" for the whole document), the byte offset to point at (-1 when
// unknown) and what is wrong.
type problem struct {
	path string
	off  int64
	msg  string
}

func report(name string, raw []byte, probs []problem) error {
	errs := make([]error, 0, min(len(probs), maxProblems)+1)
	for i, p := range probs {
		if i == maxProblems {
			errs = append(errs, fmt.Errorf("%s: and %d more problems", name, len(probs)-i))
			break
		}
		errs = append(errs, p.err(name, raw))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

func (p problem) err(name string, raw []byte) error {
	where := name
	if p.off >= 0 {
		line, col := position(raw, p.off)
		where = fmt.Sprintf("%s:%d:%d", name, line, col)
	}
	if p.path == "" {
		return fmt.Errorf("%s: %s", where, p.msg)
	}
	return fmt.Errorf("%s: %s: %s", where, p.path, p.msg)
}

// position turns a byte offset into a 1-based line and column (in bytes,
// as compilers count them).
func position(raw []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(raw)))
	before := raw[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
