package seccompgen_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/profiles/seccompgen"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// known is a small stand-in for the kernel tables.
var known = map[string][]string{
	"read": {"x86_64", "aarch64"}, "write": {"x86_64", "aarch64"}, "mount": {"x86_64", "aarch64"},
	"clone": {"x86_64", "aarch64"}, "arch_prctl": {"x86_64"}, "s390_sthyi": {},
}

const table = `
defaultAction: SCMP_ACT_ERRNO
defaultErrnoRet: 1
architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64]
allow:
  - group: io
    why: reading and writing
    names: [write, read]
  - group: thread state
    why: TLS
    names: [arch_prctl]
deny:
  - names: [mount]
    why: escapes
rules:
  - names: [clone]
    action: SCMP_ACT_ALLOW
    why: no namespaces
    anyOf: {index: 0, values: [CLONE_NEWUSER|0x11, 17]}
    args:
      - {index: 1, op: SCMP_CMP_MASKED_EQ, value: "CLONE_NEWNS | CLONE_NEWNET", valueTwo: 0}
`

func TestGenerate(t *testing.T) {
	p, err := seccompgen.Generate("t.yaml", []byte(table), known)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != specs.ActErrno || *p.DefaultErrnoRet != 1 || len(p.Architectures) != 2 {
		t.Fatalf("header: %+v", p)
	}
	if len(p.Syscalls) != 3 || strings.Join(p.Syscalls[0].Names, ",") != "arch_prctl,read,write" {
		t.Fatalf("rules: %+v", p.Syscalls)
	}
	// anyOf expands to one rule per value, sorted by value.
	for i, v := range []uint64{17, 0x10000011} {
		r := p.Syscalls[1+i]
		mask := specs.LinuxSeccompArg{Index: 1, Op: specs.OpMaskedEqual, Value: 0x40020000}
		eq := specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: v}
		if len(r.Args) != 2 || r.Args[0] != mask || r.Args[1] != eq {
			t.Errorf("rule %d: %+v", 1+i, r.Args)
		}
	}
}

// The output does not depend on the order of the table's entries.
func TestGenerateIsDeterministic(t *testing.T) {
	reordered := strings.Replace(table, "names: [write, read]", "names: [read, write]", 1)
	reordered = strings.Replace(reordered, "values: [CLONE_NEWUSER|0x11, 17]", "values: [17, 0x10000011]", 1)
	var outs [][]byte
	for _, doc := range []string{table, reordered} {
		p, err := seccompgen.Generate("t.yaml", []byte(doc), known)
		if err != nil {
			t.Fatal(err)
		}
		out, err := seccompgen.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Errorf("reordering the table changed the output:\n%s\n%s", outs[0], outs[1])
	}
}

func TestGenerateRefusesBadTables(t *testing.T) {
	cases := []struct{ name, old, new, want string }{
		{"unclassified", "names: [mount]", "names: [s390_sthyi]", "not classified: mount (put each in allow, deny or rules)"},
		{"other architecture only", "names: [mount]", "names: [mount, s390_sthyi]", `deny[0]: "s390_sthyi" exists on none of the profile's architectures`},
		{"unknown name", "names: [mount]", "names: [mount, mountt]", `deny[0]: unknown system call "mountt"`},
		{"twice", "names: [mount]", "names: [mount, read]", `deny[0]: "read" is already classified in allow[0] (io)`},
		{"no reason", "    why: escapes\n", "", "deny[0]: no reason (why) given"},
		{"no group name", "group: io", "group: ''", "allow[0]: the group has no name"},
		{"empty entry", "names: [mount]", "names: []", "deny[0]: no names"},
		{"unknown field", "    why: escapes\n", "    why: escapes\n    because: x\n", "field because not found"},
		{"rule errnoRet", "action: SCMP_ACT_ALLOW", "action: SCMP_ACT_ERRNO\n    errnoRet: 38", "field errnoRet not found"},
		{"rule without action", "    action: SCMP_ACT_ALLOW\n", "", "rules[0]: no action"},
		{"architecture outside the table", "SCMP_ARCH_AARCH64]", "SCMP_ARCH_S390X]", `architectures: "SCMP_ARCH_S390X" is not in the system call table`},
		{"unknown constant", "CLONE_NEWUSER|0x11", "CLONE_NEWUSR", `"CLONE_NEWUSR" is neither a known constant nor a number`},
		{"value not a scalar", `value: "CLONE_NEWNS | CLONE_NEWNET"`, "value: [1]", "want a number or constant names joined by |"},
		{"no default action", "defaultAction: SCMP_ACT_ERRNO\n", "", "defaultAction: missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(table, c.old) {
				t.Fatalf("%q is not in the table", c.old)
			}
			_, err := seccompgen.Generate("t.yaml", []byte(strings.Replace(table, c.old, c.new, 1)), known)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "t.yaml: ") {
				t.Errorf("error does not name the table: %v", err)
			}
		})
	}
}

func TestAllowedAndDenied(t *testing.T) {
	src, err := seccompgen.Parse([]byte(table))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(src.Allowed(), ","); got != "arch_prctl,read,write" {
		t.Errorf("allowed %s", got)
	}
	if got := strings.Join(src.Denied(), ","); got != "mount" {
		t.Errorf("denied %s", got)
	}
}
