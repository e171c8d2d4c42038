package policy

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	data "github.com/nri-guard/nri-guard/profiles"
)

// PresetName names a policy preset shipped in the binary
// (profiles/policy/NAME.yaml).
type PresetName string

func (PresetName) allowed() []string { return PresetNames() }

// PresetNames lists the presets the binary carries, sorted.
func PresetNames() []string {
	files, _ := fs.Glob(data.FS, "policy/*.yaml")
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(f, "policy/"), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// PresetPath is where a preset lives in the source tree; settings that
// come from it cite this path and the line, as a file's settings do.
func PresetPath(name PresetName) string {
	return "profiles/policy/" + string(name) + ".yaml"
}

// presetInputs reads the presets named, in order, each once. A preset is
// a layer under every policy file: the files always override it, whichever
// file named it, so a node can narrow or widen what a preset says.
func presetInputs(names []PresetName) ([]Input, Errors) {
	var out []Input
	var errs Errors
	seen := map[PresetName]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		raw, err := data.FS.ReadFile("policy/" + string(name) + ".yaml")
		if err != nil {
			errs = append(errs, Error{File: PresetPath(name), Msg: fmt.Sprintf("no such preset; known presets: %s", strings.Join(PresetNames(), ", "))})
			continue
		}
		out = append(out, Input{Name: PresetPath(name), Data: raw})
	}
	return out, errs
}

// presetsOf collects the presets the documents name, in file order.
func presetsOf(docs []Document) []PresetName {
	var out []PresetName
	for _, d := range docs {
		out = append(out, d.Presets...)
	}
	return out
}

// parsePresets parses preset documents; a preset that names presets is an
// error, so layering stays one level deep and easy to follow.
func parsePresets(inputs []Input) ([]Document, Errors) {
	var docs []Document
	var errs Errors
	for _, in := range inputs {
		doc, docErrs := parseDocument(in.Name, in.Data)
		errs = append(errs, docErrs...)
		if len(doc.Presets) > 0 {
			errs = append(errs, Error{File: in.Name, Path: "presets", Msg: "a preset cannot name other presets"})
		}
		docs = append(docs, doc)
	}
	return docs, errs
}
