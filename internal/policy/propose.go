package policy

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Grant is what an exception must set for one finding to be allowed: a
// list setting that must also hold Add and no longer hold Remove, or a
// scalar setting set to Value. Key is the setting's policy key, e.g.
// "capabilities.allow". Controls attach one to each finding an exception
// can allow by a setting narrower than the control's mode.
type Grant struct {
	Key    string   `json:"key"`
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
	Value  string   `json:"value,omitempty"`
}

// Granting returns start with what grants need set over it, each setting
// computed from under, the settings the workload is judged by now (an
// exception's settings replace the node's whole list, so a list keeps
// what it held and gains what the grant adds). start is what the new
// exception must keep of the one the workload has now (see ForEnforce);
// empty when it has none.
func Granting(start Controls, under *Controls, grants []Grant) (Controls, error) {
	out := start
	for _, g := range grants {
		have, err := settingByKey(reflect.ValueOf(under).Elem(), g.Key)
		if err != nil {
			return Controls{}, err
		}
		dst, _ := settingByKey(reflect.ValueOf(&out).Elem(), g.Key)
		if dst.FieldByName("Set").Bool() {
			have = dst // a second grant on the same setting builds on the first
		}
		value, err := granted(have.FieldByName("Value"), g)
		if err != nil {
			return Controls{}, err
		}
		dst.FieldByName("Value").Set(value)
		dst.FieldByName("Set").SetBool(true)
	}
	return out, nil
}

// settingByKey finds the Setting field "control.setting" of a Controls.
func settingByKey(controls reflect.Value, key string) (reflect.Value, error) {
	control, setting, ok := strings.Cut(key, ".")
	if ctl, found := fieldByYAMLName(controls, control); ok && found {
		if s, found := fieldByYAMLName(ctl, setting); found && isSetting(s.Type()) {
			return s, nil
		}
	}
	return reflect.Value{}, fmt.Errorf("no policy setting %q", key)
}

func fieldByYAMLName(v reflect.Value, name string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		if yamlFieldName(v.Type().Field(i).Tag.Get("yaml")) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// granted is value with the grant applied; values are converted to the
// setting's element type (all are string kinds).
func granted(value reflect.Value, g Grant) (reflect.Value, error) {
	if value.Kind() != reflect.Slice {
		if len(g.Add)+len(g.Remove) > 0 || value.Kind() != reflect.String {
			return value, fmt.Errorf("%s is not a list of names: a grant can only set it", g.Key)
		}
		return reflect.ValueOf(g.Value).Convert(value.Type()), nil
	}
	elem := value.Type().Elem()
	if elem.Kind() != reflect.String {
		return value, fmt.Errorf("%s does not hold names", g.Key)
	}
	var items []string
	for i := 0; i < value.Len(); i++ {
		if s := value.Index(i).String(); !slices.Contains(g.Remove, s) {
			items = append(items, s)
		}
	}
	for _, s := range g.Add {
		if !slices.Contains(items, s) {
			items = append(items, s)
		}
	}
	out := reflect.MakeSlice(value.Type(), 0, len(items))
	for _, s := range items {
		out = reflect.Append(out, reflect.ValueOf(s).Convert(elem))
	}
	return out, nil
}

// ForEnforce is what an exception sets, less the modes it sets to audit:
// what a more specific exception must keep of it to replace it for a
// workload on the way to enforce.
func (e *Exception) ForEnforce() Controls {
	out := e.Controls
	for _, m := range out.modes() {
		if m.Set && m.Value == Audit {
			*m = Setting[Mode]{}
		}
	}
	return out
}

// Proposal is one exception `nri-guard report --propose` suggests, with
// the comment lines that say what it allows and why.
type Proposal struct {
	Exception Exception
	Comment   []string
}

// ProposalDocument renders proposals as one policy drop-in: only
// exceptions, each with its comment, every setting in the order of the
// policy's schema.
func ProposalDocument(header []string, proposals []Proposal) ([]byte, error) {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, p := range proposals {
		item, err := exceptionNode(&p.Exception)
		if err != nil {
			return nil, err
		}
		item.HeadComment = strings.Join(p.Comment, "\n")
		list.Content = append(list.Content, item)
	}
	doc := mapping("apiVersion", scalar(APIVersion), "kind", scalar(Kind), "exceptions", list)
	doc.HeadComment = strings.Join(header, "\n")
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

func exceptionNode(e *Exception) (*yaml.Node, error) {
	if len(e.Match.Args) > 0 || len(e.Match.Labels) > 0 {
		return nil, errors.New("exception " + e.Name + ": a proposal selects by name and image only")
	}
	match := &yaml.Node{Kind: yaml.MappingNode}
	for _, sel := range e.Match.globSelectors() {
		list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range sel.values {
			list.Content = append(list.Content, scalar(v))
		}
		match.Content = append(match.Content, scalar(sel.key), list)
	}
	controls := &yaml.Node{Kind: yaml.MappingNode}
	v := reflect.ValueOf(e.Controls)
	for i := 0; i < v.NumField(); i++ {
		settings := &yaml.Node{Kind: yaml.MappingNode}
		ctl := v.Field(i)
		for j := 0; j < ctl.NumField(); j++ {
			s := ctl.Field(j)
			if !s.FieldByName("Set").Bool() {
				continue
			}
			var value yaml.Node
			if err := value.Encode(s.FieldByName("Value").Interface()); err != nil {
				return nil, err
			}
			if value.Kind == yaml.SequenceNode {
				value.Style = yaml.FlowStyle
			}
			settings.Content = append(settings.Content, scalar(yamlName(ctl.Type().Field(j))), &value)
		}
		if len(settings.Content) > 0 {
			controls.Content = append(controls.Content, scalar(yamlName(v.Type().Field(i))), settings)
		}
	}
	if len(controls.Content) == 0 {
		return nil, errors.New("exception " + e.Name + " changes no setting")
	}
	return mapping("name", scalar(e.Name), "match", match, "controls", controls), nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

// WithDropIn is the policy with one more drop-in's exceptions merged
// last, as if the file were added to the policy directory: how a
// proposal is proved before anyone installs it. The drop-in must hold
// only exceptions (a proposal never changes the node's own settings).
func (p *Policy) WithDropIn(in Input) (*Policy, error) {
	doc, errs := parseDocument(in.Name, in.Data)
	if len(errs) > 0 {
		return nil, errs
	}
	if doc.DefaultMode.Set || len(doc.Presets) > 0 || !reflect.ValueOf(doc.Controls).IsZero() {
		return nil, fmt.Errorf("%s: a proposal may hold exceptions only", in.Name)
	}
	have := make([]Exception, len(p.Exceptions))
	for i, e := range p.Exceptions {
		have[i] = e.Exception
	}
	out := *p
	out.Files = append(slices.Clone(p.Files), in.Name)
	out.Exceptions = nil
	for i, e := range mergeExceptions(have, doc.Exceptions) {
		out.Exceptions = append(out.Exceptions, compileException(&out.Controls, e, i))
	}
	return &out, nil
}
