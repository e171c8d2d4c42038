package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// objKind says which OCI object an object in the profile is.
type objKind int

const (
	kindOther   objKind = iota // not a profile object: decoding reports it
	kindProfile                // LinuxSeccomp
	kindRule                   // LinuxSyscall
	kindArg                    // LinuxSeccompArg
)

// fields are the keys each object may have, spelt as runtime-spec's JSON
// tags spell them.
var fields = map[objKind][]string{
	kindProfile: {"defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"},
	kindRule:    {"names", "action", "errnoRet", "args"},
	kindArg:     {"index", "value", "valueTwo", "op"},
}

// elements says what kind of object the list under a key holds.
var elements = map[objKind]map[string]objKind{
	kindProfile: {"syscalls": kindRule},
	kindRule:    {"args": kindArg},
}

// index records, by JSON path ("syscalls[3].names[1]"), where each value
// starts, and which value ends at an offset.
type index struct {
	start map[string]int64
	byEnd map[int64]string
}

// frame is one open object or array.
type frame struct {
	path  string
	array bool
	kind  objKind         // objects: their schema; arrays: their object elements' schema
	n     int             // arrays: index of the next element
	key   string          // objects: key of the value being read; "" while a key is due
	seen  map[string]bool // objects: keys so far, lower-cased as encoding/json matches them
}

type scanner struct {
	data  []byte
	dec   *json.Decoder
	stack []*frame
	idx   *index
	done  bool // the top-level object is complete
}

// scan is the structural pass over a profile, before it is decoded: it
// reports syntax errors, unknown and repeated fields at their place in
// the file, and indexes where every value starts so that later semantic
// errors can name a line and column too. encoding/json alone reports
// unknown fields without a position, matches field names regardless of
// case and lets a repeated field silently win; a profile is security
// policy, so each of those is an error here.
func scan(data []byte) (*index, *problem) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are only located here; decoding judges them
	s := &scanner{data: data, dec: dec, idx: &index{start: map[string]int64{}, byEnd: map[int64]string{}}}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return s.idx, s.atEOF()
		}
		if err != nil {
			return s.idx, s.syntax(err, skipSeparators(data, before))
		}
		if p := s.step(tok, skipSeparators(data, before)); p != nil {
			return s.idx, p
		}
	}
}

// skipSeparators moves from the end of one token to the start of the
// next, which is where an error about that token should point.
func skipSeparators(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

func (s *scanner) top() *frame {
	if len(s.stack) == 0 {
		return nil
	}
	return s.stack[len(s.stack)-1]
}

func (s *scanner) step(tok json.Token, at int64) *problem {
	if s.done {
		return &problem{off: at, msg: "unexpected data after the profile's JSON object"}
	}
	if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
		s.close()
		return nil
	}
	if f := s.top(); f != nil && !f.array && f.key == "" {
		return s.key(f, tok, at)
	}
	return s.value(tok, at)
}

func (s *scanner) key(f *frame, tok json.Token, at int64) *problem {
	k, ok := tok.(string)
	if !ok { // the decoder only yields strings here; stay safe if that changes
		return &problem{path: f.path, off: at, msg: "want a field name"}
	}
	path := joinPath(f.path, k)
	if known := fields[f.kind]; known != nil && !slices.Contains(known, k) {
		return &problem{path: f.path, off: at, msg: unknownField(k, known)}
	}
	if f.seen[strings.ToLower(k)] {
		return &problem{path: path, off: at, msg: "given twice (a repeated field would silently replace the first)"}
	}
	f.seen[strings.ToLower(k)] = true
	f.key = k
	return nil
}

func unknownField(k string, known []string) string {
	for _, want := range known {
		if strings.EqualFold(k, want) {
			return fmt.Sprintf("unknown field %q (field names are case-sensitive: %q)", k, want)
		}
	}
	return fmt.Sprintf("unknown field %q (want one of %s)", k, strings.Join(known, ", "))
}

func (s *scanner) value(tok json.Token, at int64) *problem {
	path := s.childPath()
	s.idx.start[path] = at
	d, isDelim := tok.(json.Delim)
	if len(s.stack) == 0 && d != '{' {
		return &problem{off: at, msg: "a seccomp profile is a JSON object"}
	}
	if isDelim {
		s.stack = append(s.stack, s.open(path, d))
		return nil
	}
	s.idx.byEnd[s.dec.InputOffset()] = path
	s.advance()
	return nil
}

func (s *scanner) open(path string, d json.Delim) *frame {
	parent := s.top()
	f := &frame{path: path, array: d == '['}
	switch {
	case parent == nil:
		f.kind = kindProfile
	case parent.array && d == '{':
		f.kind = parent.kind
	case !parent.array && d == '[':
		f.kind = elements[parent.kind][parent.key]
	}
	if !f.array {
		f.seen = map[string]bool{}
	}
	return f
}

func (s *scanner) close() {
	f := s.top()
	s.stack = s.stack[:len(s.stack)-1]
	s.idx.byEnd[s.dec.InputOffset()] = f.path
	if len(s.stack) == 0 {
		s.done = true
		return
	}
	s.advance()
}

// advance moves the innermost container past the value just read.
func (s *scanner) advance() {
	if f := s.top(); f.array {
		f.n++
	} else {
		f.key = ""
	}
}

func (s *scanner) childPath() string {
	f := s.top()
	switch {
	case f == nil:
		return ""
	case f.array:
		return fmt.Sprintf("%s[%d]", f.path, f.n)
	default:
		return joinPath(f.path, f.key)
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (s *scanner) atEOF() *problem {
	if s.done {
		return nil
	}
	return &problem{off: int64(len(s.data)), msg: "unexpected end of input"}
}

func (s *scanner) syntax(err error, at int64) *problem {
	if s.done {
		return &problem{off: at, msg: "unexpected data after the profile's JSON object"}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return s.atEOF()
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// Offset counts the bytes read, the offending one included.
		return &problem{off: max(syn.Offset-1, 0), msg: syn.Error()}
	}
	return &problem{off: at, msg: err.Error()}
}

// typeProblem places an error from decoding (a value of the wrong JSON
// type or out of range) at the value it is about.
func (x *index) typeProblem(err error) problem {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return problem{off: -1, msg: err.Error()}
	}
	msg := fmt.Sprintf("want %s, got %s", describeType(te.Type), te.Value)
	if path, ok := x.at(te.Offset); ok {
		return problem{path: path, off: x.start[path], msg: msg}
	}
	return problem{path: te.Field, off: te.Offset, msg: msg}
}

// at finds the value a decoding error's offset is about: encoding/json
// reports the end of a scalar, but for an object or list the offset just
// past its opening bracket.
func (x *index) at(off int64) (string, bool) {
	if path, ok := x.byEnd[off]; ok {
		return path, true
	}
	for path, start := range x.start {
		if start == off-1 {
			return path, true
		}
	}
	return "", false
}

// describeType names a Go type as the JSON a user should write.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer from 0 to %d", ^uint64(0)>>(64-t.Bits()))
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return t.String()
}

// place fills in the offset of problems found after decoding, from their
// path or, for a missing field, from the nearest enclosing value.
func (x *index) place(p *problem) {
	for path := p.path; ; path = parentPath(path) {
		if off, ok := x.start[path]; ok {
			p.off = off
			return
		}
		if path == "" {
			return
		}
	}
}

func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
