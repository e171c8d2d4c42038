// Package seccompgen turns the default seccomp profile's source table
// (profiles/seccomp/default.yaml) into the OCI LinuxSeccomp JSON the
// runtime reads (profiles/seccomp/default.json).
//
// The table, not the JSON, is what people review: every allowed call sits
// in a group that says what it is for, every denied call under the reason
// it is denied. The generator refuses a table that leaves any system call
// of the profile's architectures unclassified, names one twice, or gives
// no reason, so a call the kernel adds cannot slip into either list
// unreviewed.
package seccompgen

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gopkg.in/yaml.v3"
)

// Source is the table's schema.
type Source struct {
	DefaultAction   string   `yaml:"defaultAction"`
	DefaultErrnoRet uint     `yaml:"defaultErrnoRet"`
	Architectures   []string `yaml:"architectures"`
	Allow           []Group  `yaml:"allow"`
	Deny            []Denial `yaml:"deny"`
	Rules           []Rule   `yaml:"rules"`
}

// Group is a set of system calls allowed without conditions, for one
// purpose.
type Group struct {
	Group string   `yaml:"group"`
	Why   string   `yaml:"why"`
	Names []string `yaml:"names"`
}

// Denial is a set of system calls refused for one reason. Denied calls get
// no rule: the profile's default action refuses them.
type Denial struct {
	Names []string `yaml:"names"`
	Why   string   `yaml:"why"`
}

// Rule is a call allowed only with some arguments, or given an action of
// its own. It has no errnoRet on purpose: a rule with its own errnoRet
// crashes containerd 2.2.x (NRI v0.11.0) when the profile is injected, so
// the built-in profile must do without (SCMP_ACT_TRACE with no tracer
// answers ENOSYS, for example).
type Rule struct {
	Names  []string `yaml:"names"`
	Action string   `yaml:"action"`
	Why    string   `yaml:"why"`
	Args   []Arg    `yaml:"args"`
	// AnyOf expands into one rule per value: seccomp ANDs a rule's
	// conditions, so "argument equals any of" takes one rule each.
	AnyOf *AnyOf `yaml:"anyOf"`
}

// Arg is one condition on an argument. Value and ValueTwo may be numbers
// or kernel constant names joined by "|".
type Arg struct {
	Index    uint   `yaml:"index"`
	Op       string `yaml:"op"`
	Value    Value  `yaml:"value"`
	ValueTwo Value  `yaml:"valueTwo"`
}

// AnyOf allows the call when argument Index equals one of Values.
type AnyOf struct {
	Index  uint    `yaml:"index"`
	Values []Value `yaml:"values"`
}

// Parse decodes the table strictly: an unknown key is an error, not a
// silently ignored line.
func Parse(table []byte) (*Source, error) {
	var src Source
	dec := yaml.NewDecoder(bytes.NewReader(table))
	dec.KnownFields(true)
	if err := dec.Decode(&src); err != nil {
		return nil, err
	}
	return &src, nil
}

// Generate builds the profile from the table. known maps every known
// system call to the architectures that have it (internal/profiles'
// Syscalls); name is the table's file name, for errors.
func Generate(name string, table []byte, known map[string][]string) (*specs.LinuxSeccomp, error) {
	src, err := Parse(table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if probs := src.check(known); len(probs) > 0 {
		errs := make([]error, len(probs))
		for i, p := range probs {
			errs[i] = fmt.Errorf("%s: %s", name, p)
		}
		return nil, errors.Join(errs...)
	}
	return src.profile(), nil
}

// Allowed lists the calls allowed without conditions, sorted.
func (s *Source) Allowed() []string {
	var out []string
	for _, g := range s.Allow {
		out = append(out, g.Names...)
	}
	slices.Sort(out)
	return out
}

// Denied lists the calls the table denies, sorted.
func (s *Source) Denied() []string {
	var out []string
	for _, d := range s.Deny {
		out = append(out, d.Names...)
	}
	slices.Sort(out)
	return out
}

func (s *Source) profile() *specs.LinuxSeccomp {
	errno := s.DefaultErrnoRet
	out := &specs.LinuxSeccomp{
		DefaultAction:   specs.LinuxSeccompAction(s.DefaultAction),
		DefaultErrnoRet: &errno,
		Syscalls:        []specs.LinuxSyscall{{Names: s.Allowed(), Action: specs.ActAllow}},
	}
	for _, a := range s.Architectures {
		out.Architectures = append(out.Architectures, specs.Arch(a))
	}
	var rules []specs.LinuxSyscall
	for _, r := range s.Rules {
		rules = append(rules, r.expand()...)
	}
	slices.SortStableFunc(rules, compareRules)
	out.Syscalls = append(out.Syscalls, rules...)
	return out
}

func (r Rule) expand() []specs.LinuxSyscall {
	names := slices.Sorted(slices.Values(r.Names))
	base := specs.LinuxSyscall{Names: names, Action: specs.LinuxSeccompAction(r.Action)}
	for _, a := range r.Args {
		base.Args = append(base.Args, specs.LinuxSeccompArg{
			Index: a.Index, Op: specs.LinuxSeccompOperator(a.Op), Value: uint64(a.Value), ValueTwo: uint64(a.ValueTwo),
		})
	}
	if r.AnyOf == nil {
		return []specs.LinuxSyscall{base}
	}
	out := make([]specs.LinuxSyscall, 0, len(r.AnyOf.Values))
	for _, v := range r.AnyOf.Values {
		rule := base
		rule.Args = append(slices.Clone(base.Args), specs.LinuxSeccompArg{Index: r.AnyOf.Index, Op: specs.OpEqualTo, Value: uint64(v)})
		out = append(out, rule)
	}
	return out
}

// compareRules orders the conditional rules by name, then by their
// conditions, so the output does not depend on the table's order.
func compareRules(a, b specs.LinuxSyscall) int {
	return cmp.Or(
		strings.Compare(strings.Join(a.Names, ","), strings.Join(b.Names, ",")),
		slices.CompareFunc(a.Args, b.Args, func(x, y specs.LinuxSeccompArg) int {
			return cmp.Or(cmp.Compare(x.Index, y.Index), strings.Compare(string(x.Op), string(y.Op)),
				cmp.Compare(x.Value, y.Value), cmp.Compare(x.ValueTwo, y.ValueTwo))
		}),
	)
}

// Marshal renders the profile as the committed file: indented, with a
// trailing newline, the same bytes every time.
func Marshal(p *specs.LinuxSeccomp) ([]byte, error) {
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
