package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nri-guard/nri-guard/internal/readfile"
	"gopkg.in/yaml.v3"
)

// Load reads the base policy file and then every *.yaml / *.yml file in
// dir (if dir is not empty) in lexical order, each overriding what came
// before. It returns every error it finds, or a complete Policy: a policy
// never half-loads.
func Load(base, dir string) (*Policy, error) {
	return LoadWith(nil, base, dir)
}

// LoadWith is Load with presets laid under the files in addition to those
// the files name (`nri-guard check --preset`). base may be "" when
// presets are given: the presets alone are then the policy.
func LoadWith(presets []PresetName, base, dir string) (*Policy, error) {
	var files []string
	if base != "" {
		files = append(files, base)
	}
	if dir != "" {
		more, err := dropIns(dir)
		if err != nil {
			return nil, err
		}
		files = append(files, more...)
	}
	inputs := make([]Input, 0, len(files))
	for _, f := range files {
		data, err := readBounded(f)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, Input{Name: f, Data: data})
	}
	return ParseWith(presets, inputs...)
}

// MaxFileBytes bounds one policy file: the runtime wrapper reads the
// policy at every container start, and no node policy comes near it.
const MaxFileBytes = 1 << 20

// readBounded reads a policy file of at most MaxFileBytes.
func readBounded(path string) ([]byte, error) {
	data, err := readfile.Bounded(path, MaxFileBytes)
	switch {
	case errors.Is(err, readfile.ErrTooLarge):
		return nil, fmt.Errorf("%s: larger than %d bytes, the most a policy file may hold", path, MaxFileBytes)
	case err != nil:
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return data, nil
}

// Input is one policy document and the name errors should carry.
type Input struct {
	Name string
	Data []byte
}

// Parse merges the documents in order, the first being the base.
func Parse(inputs ...Input) (*Policy, error) {
	return ParseWith(nil, inputs...)
}

// ParseWith merges the presets given and those the documents name, then
// the documents in order.
func ParseWith(presets []PresetName, inputs ...Input) (*Policy, error) {
	if len(inputs) == 0 && len(presets) == 0 {
		return nil, errors.New("no policy: name a policy file or a preset")
	}
	var errs Errors
	docs := make([]Document, 0, len(inputs))
	for _, in := range inputs {
		doc, docErrs := parseDocument(in.Name, in.Data)
		errs = append(errs, docErrs...)
		docs = append(docs, doc)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	names := append(slices.Clone(presets), presetsOf(docs)...)
	layers, errs := presetInputs(names)
	presetDocs, presetErrs := parsePresets(layers)
	if errs = append(errs, presetErrs...); len(errs) > 0 {
		return nil, errs
	}
	p, mergeErrs := merge(inputs, append(presetDocs, docs...))
	if len(mergeErrs) > 0 {
		return nil, mergeErrs
	}
	for _, l := range layers {
		p.Presets = append(p.Presets, l.Name)
	}
	p.Digest = digest(append(layers, inputs...))
	return p, nil
}

// digest hashes the names and bytes of what was parsed, presets included:
// equal digests, equal policy. It is taken from the very bytes parsed, so
// a file edited after loading does not pass for the policy in force.
func digest(inputs []Input) string {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "%s\x00%d\x00", in.Name, len(in.Data))
		h.Write(in.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func dropIns(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading policy drop-in directory: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext == ".yaml" || ext == ".yml" {
			files = append(files, filepath.Join(dir, name))
		}
	}
	slices.Sort(files)
	return files, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+)`)

// parseDocument checks one file completely before decoding it.
func parseDocument(file string, data []byte) (Document, Errors) {
	var doc Document
	root, err := singleDocument(data)
	if err != nil {
		return doc, Errors{syntaxError(file, err)}
	}
	w := &schemaWalk{file: file}
	w.walk(root, reflect.TypeFor[Document](), "")
	w.errs = append(w.errs, header(file, root)...)
	w.errs = append(w.errs, exceptionShape(file, root)...)
	if len(w.errs) > 0 {
		return doc, w.errs
	}
	if err := root.Decode(&doc); err != nil {
		return doc, Errors{syntaxError(file, err)}
	}
	stampExceptionSources(&doc, root)
	stampFile(reflect.ValueOf(&doc), file)
	return doc, nil
}

func singleDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty policy file")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: a policy file holds one YAML document; found another", extra.Line)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("empty policy file")
	}
	return root.Content[0], nil
}

func syntaxError(file string, err error) Error {
	e := Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(e.Msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = strings.TrimPrefix(strings.TrimPrefix(e.Msg, m[0]), ": ")
	}
	return e
}

// header insists on apiVersion and kind so a file meant for another tool,
// or a future schema, is never read as this one.
func header(file string, root *yaml.Node) Errors {
	var errs Errors
	want := map[string]string{"apiVersion": APIVersion, "kind": Kind}
	for _, key := range []string{"apiVersion", "kind"} {
		k, v := lookup(root, key)
		switch {
		case k == nil:
			errs = append(errs, Error{File: file, Line: root.Line, Col: root.Column, Path: key, Msg: fmt.Sprintf("missing; want %s: %s", key, want[key])})
		case v.Value != want[key]:
			errs = append(errs, Error{File: file, Line: v.Line, Col: v.Column, Path: key, Msg: fmt.Sprintf("unsupported value %q; this nri-guard reads %s", v.Value, want[key])})
		}
	}
	return errs
}

// exceptionShape checks what the type system cannot: every exception has
// a name and selects something. An exception that matches every workload
// would silently switch a control off for the whole node.
func exceptionShape(file string, root *yaml.Node) Errors {
	var errs Errors
	_, list := lookup(root, "exceptions")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	names := map[string]int{}
	for i, item := range list.Content {
		path := fmt.Sprintf("exceptions[%d]", i)
		if item.Kind != yaml.MappingNode {
			continue
		}
		_, name := lookup(item, "name")
		if name == nil || name.Value == "" {
			errs = append(errs, Error{File: file, Line: item.Line, Col: item.Column, Path: path + ".name", Msg: "every exception needs a name"})
		} else if line, dup := names[name.Value]; dup {
			errs = append(errs, Error{File: file, Line: name.Line, Col: name.Column, Path: path + ".name", Msg: fmt.Sprintf("exception %q is already defined at line %d", name.Value, line)})
		} else {
			names[name.Value] = name.Line
		}
		if _, match := lookup(item, "match"); match == nil || len(match.Content) == 0 {
			errs = append(errs, Error{File: file, Line: item.Line, Col: item.Column, Path: path + ".match", Msg: "an exception must select something (namespaces, pods, containers, images, args or labels)"})
		}
		errs = append(errs, nodeOnlySettings(file, path, item)...)
	}
	return errs
}

// nodeOnlySettings refuses, in an exception, the settings that describe
// the node rather than a workload: an exception that chose its own system
// registries would widen its own image selector.
func nodeOnlySettings(file, path string, item *yaml.Node) Errors {
	_, ctl := lookup(item, "controls")
	if ctl == nil {
		return nil
	}
	_, images := lookup(ctl, "images")
	if images == nil {
		return nil
	}
	if k, _ := lookup(images, "systemRegistries"); k != nil {
		return Errors{{File: file, Line: k.Line, Col: k.Column, Path: path + ".controls.images.systemRegistries",
			Msg: "images.systemRegistries describes the node, not a workload: set it in the node's controls, not in an exception"}}
	}
	return nil
}

func stampExceptionSources(doc *Document, root *yaml.Node) {
	_, list := lookup(root, "exceptions")
	if list == nil {
		return
	}
	for i := range doc.Exceptions {
		doc.Exceptions[i].Source = Source{Line: list.Content[i].Line, Col: list.Content[i].Column}
	}
}

func lookup(mapping *yaml.Node, key string) (k, v *yaml.Node) {
	if mapping.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i], mapping.Content[i+1]
		}
	}
	return nil, nil
}
