package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a policy file, with the position and the field
// path so the operator can go straight to it.
type Error struct {
	File string
	Line int
	Col  int
	Path string
	Msg  string
}

func (e Error) Error() string {
	loc := e.File
	switch {
	case e.Line > 0 && e.Col > 0:
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	case e.Line > 0:
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Path, e.Msg)
}

// Errors is every problem found in one load; loading stops only after the
// whole input was checked, so one run shows all mistakes.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// schemaWalk checks a YAML tree against the Go type it will decode into,
// before decoding: unknown fields, duplicate keys, wrong node kinds, bad
// enum values and bad paths all become Errors with file, line, column and
// field path. yaml.v3's own errors lack the path and the column.
type schemaWalk struct {
	file string
	errs Errors
}

var settingIface = reflect.TypeFor[interface{ valueType() reflect.Type }]()

func (w *schemaWalk) fail(n *yaml.Node, path, format string, args ...any) {
	w.errs = append(w.errs, Error{File: w.file, Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (w *schemaWalk) walk(n *yaml.Node, t reflect.Type, path string) {
	if reflect.PointerTo(t).Implements(settingIface) {
		t = reflect.New(t).Interface().(interface{ valueType() reflect.Type }).valueType()
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		w.fail(n, path, "YAML anchors and aliases are not allowed in a policy: write the value out")
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.walkStruct(n, t, path)
	case reflect.Slice:
		w.walkSlice(n, t, path)
	case reflect.Map:
		w.walkMap(n, t, path)
	case reflect.String, reflect.Uint32: // a Uint32 type checks its text itself (checked)
		w.walkString(n, t, path)
	default:
		w.fail(n, path, "internal error: no schema for %s", t)
	}
}

func (w *schemaWalk) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "want a mapping (key: value lines), got %s", kindName(n))
		return
	}
	fields := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		sub := join(path, key)
		if line, dup := seen[key]; dup {
			w.fail(k, sub, "duplicate key (first set at line %d)", line)
			continue
		}
		seen[key] = k.Line
		f, ok := fields[key]
		if !ok {
			w.fail(k, sub, "unknown field; known fields here: %s", strings.Join(sortedKeys(fields), ", "))
			continue
		}
		w.walk(v, f.Type, sub)
	}
}

func (w *schemaWalk) walkSlice(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, path, "want a list, got %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
	}
}

func (w *schemaWalk) walkMap(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			w.fail(k, sub, "duplicate key (first set at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		w.walk(v, t.Elem(), sub)
	}
}

func (w *schemaWalk) walkString(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.fail(n, path, "want a single value, got %s", kindName(n))
		return
	}
	if n.Tag == "!!null" {
		w.fail(n, path, "empty value")
		return
	}
	zero := reflect.Zero(t).Interface()
	if e, ok := zero.(enum); ok && !slices.Contains(e.allowed(), n.Value) {
		w.fail(n, path, "unknown value %q; want one of: %s", n.Value, strings.Join(e.allowed(), ", "))
	}
	if c, ok := zero.(checked); ok {
		if err := c.check(n.Value); err != nil {
			w.fail(n, path, "%v", err)
		}
	}
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "an alias"
}
