// Package profiles loads and validates seccomp profiles: the built-in
// default (profiles/seccomp/default.json, embedded) and any profile a
// policy names. Validation is strict so a typo in a syscall name is an
// error at start, not a hole in the filter.
package profiles

//go:generate go run ./seccompgen/cmd ../../profiles/seccomp/default.yaml ../../profiles/seccomp/default.json

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	_ "embed"

	"github.com/nri-guard/nri-guard/internal/jsonpos"
	data "github.com/nri-guard/nri-guard/profiles"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

//go:embed syscalls.txt
var syscallsTxt []byte

// KnownSyscalls lists the system call names of the kernel tables nri-guard
// knows, sorted.
var KnownSyscalls = sync.OnceValue(func() []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(syscallsTxt))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
})

// DefaultPath names the built-in profile in messages.
const DefaultPath = "built-in profiles/seccomp/default.json"

// DefaultSeccomp returns the built-in default profile.
func DefaultSeccomp() (*specs.LinuxSeccomp, error) {
	raw, err := data.FS.ReadFile("seccomp/default.json")
	if err != nil {
		return nil, err
	}
	return ParseSeccomp(DefaultPath, raw)
}

// LoadSeccomp reads and validates a profile file.
func LoadSeccomp(path string) (*specs.LinuxSeccomp, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSeccomp(path, raw)
}

var (
	actions = []specs.LinuxSeccompAction{
		specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActErrno,
		specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
	}
	arches = []specs.Arch{
		specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
		specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
		specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
		specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64,
	}
	operators = []specs.LinuxSeccompOperator{
		specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
	}
)

// ParseSeccomp decodes a profile in the OCI LinuxSeccomp JSON form and
// checks it: unknown fields, actions, architectures, operators and
// system call names are errors, and so is a rule repeated for the same
// system call and arguments.
func ParseSeccomp(name string, raw []byte) (*specs.LinuxSeccomp, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p specs.LinuxSeccomp
	if err := dec.Decode(&p); err != nil {
		return nil, jsonpos.Error(name, raw, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value", name)
	}
	if err := validate(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &p, nil
}

func validate(p *specs.LinuxSeccomp) error {
	if p.DefaultAction == "" {
		return fmt.Errorf("defaultAction: missing (an empty profile filters nothing)")
	}
	if !slices.Contains(actions, p.DefaultAction) {
		return fmt.Errorf("defaultAction: unknown action %q", p.DefaultAction)
	}
	for i, a := range p.Architectures {
		if !slices.Contains(arches, a) {
			return fmt.Errorf("architectures[%d]: unknown architecture %q", i, a)
		}
	}
	known := KnownSyscalls()
	seen := map[string]int{}
	for i, rule := range p.Syscalls {
		if err := validateRule(rule, known); err != nil {
			return fmt.Errorf("syscalls[%d]%s", i, err)
		}
		argsKey, _ := json.Marshal(rule.Args)
		for _, n := range rule.Names {
			key := n + string(argsKey)
			if first, dup := seen[key]; dup {
				return fmt.Errorf("syscalls[%d]: %q with the same arguments is already in syscalls[%d]", i, n, first)
			}
			seen[key] = i
		}
	}
	return nil
}

func validateRule(rule specs.LinuxSyscall, known []string) error {
	if len(rule.Names) == 0 {
		return fmt.Errorf(".names: empty")
	}
	for j, n := range rule.Names {
		if _, found := slices.BinarySearch(known, n); !found {
			return fmt.Errorf(".names[%d]: unknown syscall %q", j, n)
		}
	}
	if !slices.Contains(actions, rule.Action) {
		return fmt.Errorf(".action: unknown action %q", rule.Action)
	}
	for j, a := range rule.Args {
		if a.Index > 5 {
			return fmt.Errorf(".args[%d].index: %d (system calls have arguments 0 to 5)", j, a.Index)
		}
		if !slices.Contains(operators, a.Op) {
			return fmt.Errorf(".args[%d].op: unknown operator %q", j, a.Op)
		}
	}
	return nil
}
