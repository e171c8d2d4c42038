package policy

import "reflect"

// Policy is the effective node policy: the built-in defaults, the base
// file and the drop-ins merged, with every control's mode resolved.
type Policy struct {
	// Files are the documents merged, base first.
	Files []string
	// Presets are the preset layers under Files (their source paths), in
	// order; they come from the binary, not from the node's disk.
	Presets []string
	// Digest hashes every document merged (see digest).
	Digest      string
	DefaultMode Setting[Mode]
	// Controls apply to every workload no exception selects.
	Controls   Controls
	Exceptions []*CompiledException
	// systemRegistries is Controls.Images.SystemRegistries as strings,
	// for matching without a conversion per container.
	systemRegistries []string
}

// CompiledException is an exception with its settings already laid over
// the node's, so choosing it costs nothing per container.
type CompiledException struct {
	Exception
	Effective   Controls
	Specificity int
	// Order is the merge position; on equal specificity the later wins, so
	// a drop-in can refine what the base file said.
	Order int
	// images are Match.Images compiled (they passed the schema check).
	images []imagePattern
}

func merge(inputs []Input, docs []Document) (*Policy, Errors) {
	p := &Policy{}
	for _, in := range inputs {
		p.Files = append(p.Files, in.Name)
	}
	base := defaults()
	var exceptions []Exception
	for _, doc := range docs {
		base.DefaultMode = over(base.DefaultMode, doc.DefaultMode)
		overlay(reflect.ValueOf(&base.Controls).Elem(), reflect.ValueOf(doc.Controls))
		exceptions = mergeExceptions(exceptions, doc.Exceptions)
	}
	p.DefaultMode = base.DefaultMode
	p.Controls = base.Controls
	resolveModes(&p.Controls, p.DefaultMode)
	for i, e := range exceptions {
		p.Exceptions = append(p.Exceptions, compileException(&p.Controls, e, i))
	}
	p.systemRegistries = Registries(p.Controls.Images.SystemRegistries.Value)
	return p, nil
}

// compileException lays e's settings over the node's.
func compileException(node *Controls, e Exception, order int) *CompiledException {
	eff := *node
	overlay(reflect.ValueOf(&eff).Elem(), reflect.ValueOf(e.Controls))
	return &CompiledException{
		Exception: e, Effective: eff, Specificity: e.Match.specificity(), Order: order,
		images: compileImagePatterns(e.Match.Images),
	}
}

// mergeExceptions appends, except that an exception with the name of an
// earlier one (from an earlier file) replaces it in place: that is how a
// node narrows or widens a fleet-wide exception.
func mergeExceptions(have, add []Exception) []Exception {
	for _, e := range add {
		replaced := false
		for i := range have {
			if have[i].Name == e.Name {
				have[i], replaced = e, true
				break
			}
		}
		if !replaced {
			have = append(have, e)
		}
	}
	return have
}

// overlay copies every set Setting of src over dst, field by field.
func overlay(dst, src reflect.Value) {
	if isSetting(dst.Type()) {
		if src.FieldByName("Set").Bool() {
			dst.Set(src)
		}
		return
	}
	if dst.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < dst.NumField(); i++ {
		overlay(dst.Field(i), src.Field(i))
	}
}

func isSetting(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(settingIface)
}

// resolveModes gives every control without a mode of its own the default
// mode, keeping the default mode's source so `policy show` can say why.
func resolveModes(c *Controls, def Setting[Mode]) {
	for _, m := range c.modes() {
		if !m.Set {
			*m = def
		}
	}
}

// modes lists every control's mode setting, in registry order.
func (c *Controls) modes() []*Setting[Mode] {
	v := reflect.ValueOf(c).Elem()
	out := make([]*Setting[Mode], 0, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		out = append(out, v.Field(i).Field(0).Addr().Interface().(*Setting[Mode]))
	}
	return out
}

// ModesByKey returns every control's mode by policy key.
func (c *Controls) ModesByKey() map[string]Setting[Mode] {
	keys := ControlKeys()
	out := make(map[string]Setting[Mode], len(keys))
	for i, m := range c.modes() {
		out[keys[i]] = *m
	}
	return out
}

// ControlKeys lists the policy keys of all controls the schema knows.
func ControlKeys() []string {
	t := reflect.TypeFor[Controls]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = yamlName(t.Field(i))
	}
	return keys
}

func yamlName(f reflect.StructField) string {
	return yamlFieldName(f.Tag.Get("yaml"))
}
