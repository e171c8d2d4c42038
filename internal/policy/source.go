package policy

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Source says where a setting came from, so refusals and `policy show`
// can point an operator at the exact line to change.
type Source struct {
	File string
	Line int
	Col  int
}

// BuiltIn marks settings nobody wrote: the product's defaults.
var BuiltIn = Source{File: "built-in default"}

// String is "file:line"; a setting nobody wrote is a built-in default.
func (s Source) String() string {
	if s.File == "" {
		return BuiltIn.File
	}
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Setting is one policy value together with where it was set. An unset
// Setting (Set == false) takes the value of the layer below it when files
// are merged.
type Setting[T any] struct {
	Value  T
	Set    bool
	Source Source
}

// UnmarshalYAML records the position; the file name is stamped on later,
// once the whole document decoded (yaml.v3 does not know file names).
func (s *Setting[T]) UnmarshalYAML(n *yaml.Node) error {
	if err := n.Decode(&s.Value); err != nil {
		return err
	}
	s.Set = true
	s.Source = Source{Line: n.Line, Col: n.Column}
	return nil
}

// valueType lets the strict schema walk see through a Setting to the
// type of its value.
func (s *Setting[T]) valueType() reflect.Type {
	return reflect.TypeFor[T]()
}

// set returns a Setting that is explicitly set, used for built-in defaults.
func set[T any](v T) Setting[T] {
	return Setting[T]{Value: v, Set: true, Source: BuiltIn}
}

// over returns upper when it is set, otherwise lower: the merge rule for
// every scalar and list setting.
func over[T any](lower, upper Setting[T]) Setting[T] {
	if upper.Set {
		return upper
	}
	return lower
}

// stampFile fills in the file name of every Setting reachable from v.
func stampFile(v reflect.Value, file string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			stampFile(v.Elem(), file)
		}
	case reflect.Struct:
		if f := v.FieldByName("Source"); f.IsValid() && f.Type() == reflect.TypeFor[Source]() {
			if src := f.Addr().Interface().(*Source); src.Line != 0 {
				src.File = file
			}
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				stampFile(v.Field(i), file)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stampFile(v.Index(i), file)
		}
	}
}
