// Package seccompgen builds the default seccomp profile from its source
// table (profiles/seccomp/default.yaml): every known system call allowed
// except the denied ones, plus conditional rules. Keeping the table as
// the source lets a reviewer audit each denial and its reason.
package seccompgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gopkg.in/yaml.v3"
)

// Source is the table's schema.
type Source struct {
	DefaultAction   string        `yaml:"defaultAction"`
	DefaultErrnoRet uint          `yaml:"defaultErrnoRet"`
	Architectures   []string      `yaml:"architectures"`
	Deny            []Denial      `yaml:"deny"`
	Conditional     []Conditional `yaml:"conditional"`
}

// Denial lists system calls refused, and why.
type Denial struct {
	Names []string `yaml:"names"`
	Why   string   `yaml:"why"`
}

// Conditional is a rule with arguments or an action of its own.
type Conditional struct {
	Names    []string `yaml:"names"`
	Action   string   `yaml:"action"`
	ErrnoRet *uint    `yaml:"errnoRet"`
	Why      string   `yaml:"why"`
	Args     []Arg    `yaml:"args"`
	// Values expands into one rule per value: the argument equals any.
	Values *Values `yaml:"values"`
}

// Arg is one argument comparison.
type Arg struct {
	Index    uint   `yaml:"index"`
	Value    uint64 `yaml:"value"`
	ValueTwo uint64 `yaml:"valueTwo"`
	Op       string `yaml:"op"`
}

// Values allows a system call when argument Index compares (Op) to any.
type Values struct {
	Index uint     `yaml:"index"`
	Op    string   `yaml:"op"`
	Any   []uint64 `yaml:"any"`
}

// Generate builds the profile from the table and the known system calls.
func Generate(table []byte, known []string) (*specs.LinuxSeccomp, error) {
	var src Source
	dec := yaml.NewDecoder(bytes.NewReader(table))
	dec.KnownFields(true)
	if err := dec.Decode(&src); err != nil {
		return nil, fmt.Errorf("seccomp source table: %w", err)
	}
	excluded, err := src.excluded(known)
	if err != nil {
		return nil, err
	}
	errno := src.DefaultErrnoRet
	out := &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(src.DefaultAction), DefaultErrnoRet: &errno}
	for _, a := range src.Architectures {
		out.Architectures = append(out.Architectures, specs.Arch(a))
	}
	var allowed []string
	for _, name := range known {
		if !excluded[name] {
			allowed = append(allowed, name)
		}
	}
	slices.Sort(allowed)
	out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{Names: allowed, Action: specs.ActAllow})
	for _, c := range src.Conditional {
		out.Syscalls = append(out.Syscalls, c.rules()...)
	}
	return out, nil
}

// excluded is every name denied or governed by a conditional rule; it
// also checks that each is a known system call and that each entry says
// why.
func (src *Source) excluded(known []string) (map[string]bool, error) {
	out := map[string]bool{}
	check := func(names []string, why string) error {
		if why == "" {
			return fmt.Errorf("seccomp source table: %v has no reason (why)", names)
		}
		for _, n := range names {
			if !slices.Contains(known, n) {
				return fmt.Errorf("seccomp source table: unknown system call %q", n)
			}
			out[n] = true
		}
		return nil
	}
	for _, d := range src.Deny {
		if err := check(d.Names, d.Why); err != nil {
			return nil, err
		}
	}
	for _, c := range src.Conditional {
		if err := check(c.Names, c.Why); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c Conditional) rules() []specs.LinuxSyscall {
	base := specs.LinuxSyscall{Names: c.Names, Action: specs.LinuxSeccompAction(c.Action), ErrnoRet: c.ErrnoRet}
	for _, a := range c.Args {
		base.Args = append(base.Args, specs.LinuxSeccompArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: specs.LinuxSeccompOperator(a.Op)})
	}
	if c.Values == nil {
		return []specs.LinuxSyscall{base}
	}
	out := make([]specs.LinuxSyscall, 0, len(c.Values.Any))
	for _, v := range c.Values.Any {
		r := base
		r.Args = []specs.LinuxSeccompArg{{Index: c.Values.Index, Value: v, Op: specs.LinuxSeccompOperator(c.Values.Op)}}
		out = append(out, r)
	}
	return out
}

// Marshal renders the profile as the committed JSON file: indented, with
// a trailing newline, byte-for-byte reproducible.
func Marshal(p *specs.LinuxSeccomp) ([]byte, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
