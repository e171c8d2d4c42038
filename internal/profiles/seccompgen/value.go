package seccompgen

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// constants are the kernel constants the table may name instead of
// writing numbers, so a reviewer reads CLONE_NEWUSER, not 0x10000000.
// Values from the Linux UAPI headers linux/sched.h and linux/personality.h.
var constants = map[string]uint64{
	"CLONE_NEWNS":     0x00020000,
	"CLONE_NEWCGROUP": 0x02000000,
	"CLONE_NEWUTS":    0x04000000,
	"CLONE_NEWIPC":    0x08000000,
	"CLONE_NEWUSER":   0x10000000,
	"CLONE_NEWPID":    0x20000000,
	"CLONE_NEWNET":    0x40000000,

	"PER_LINUX":   0x0000,
	"PER_LINUX32": 0x0008,
	"UNAME26":     0x0020000,
}

// Value is an argument value in the table: a YAML integer, or a string of
// constant names and numbers joined by "|" (bitwise or).
type Value uint64

// UnmarshalYAML reads either form.
func (v *Value) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a number or constant names joined by |", node.Line)
	}
	var n uint64
	if node.Tag == "!!int" {
		if err := node.Decode(&n); err != nil {
			return fmt.Errorf("line %d: %w", node.Line, err)
		}
		*v = Value(n)
		return nil
	}
	n, err := evalOr(node.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", node.Line, err)
	}
	*v = Value(n)
	return nil
}

// evalOr evaluates "A|B|0x10".
func evalOr(expr string) (uint64, error) {
	var out uint64
	for term := range strings.SplitSeq(expr, "|") {
		term = strings.TrimSpace(term)
		if n, ok := constants[term]; ok {
			out |= n
			continue
		}
		n, err := strconv.ParseUint(term, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is neither a known constant nor a number", term)
		}
		out |= n
	}
	return out, nil
}
