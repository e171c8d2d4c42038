package profiles

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// valid is a small profile every error case below breaks in one place.
const valid = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
  ]
}
`

func TestParseSeccompValid(t *testing.T) {
	p, err := ParseSeccomp("p.json", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Syscalls) != 5 || p.Syscalls[1].Args[0].Value != 0x7E020000 || *p.Syscalls[4].ErrnoRet != 38 {
		t.Fatalf("decoded %+v", p)
	}
	// Names only other architectures have are known too: multi-architecture
	// profiles carry them.
	multi := strings.Replace(valid, `"write"]`, `"write", "s390_pci_mmio_read", "riscv_flush_icache"]`, 1)
	if _, err := ParseSeccomp("p.json", []byte(multi)); err != nil {
		t.Fatal(err)
	}
}

// Each case changes valid in one place (or replaces it) and names the
// first line of the error it must produce.
func TestParseSeccompErrors(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"empty file", "", "", "p.json: empty file: a seccomp profile is a JSON object"},
		{"blank file", "", " \n\t\n", "p.json: empty file: a seccomp profile is a JSON object"},
		{"not an object", "", "[]", "p.json:1:1: a seccomp profile is a JSON object"},
		{"null", "", "null", "p.json:1:1: a seccomp profile is a JSON object"},
		{"syntax", `"SCMP_ACT_ALLOW"},`, `"SCMP_ACT_ALLOW"},,`, "p.json:6:61: invalid character ',' looking for beginning of value"},
		{"truncated", "", valid[:120], "p.json:4:58: unexpected end of input"},
		{"trailing data", "", valid + "{}", "p.json:14:1: unexpected data after the profile's JSON object"},
		{"trailing junk", "", valid + "x", "p.json:14:1: unexpected data after the profile's JSON object"},
		{"unknown top field", `"defaultErrnoRet": 1,`, `"defaultErrnoRet": 1, "bogus": 2,`,
			`p.json:3:25: unknown field "bogus" (want one of defaultAction, defaultErrnoRet, architectures, flags, listenerPath, listenerMetadata, syscalls)`},
		{"unknown rule field", `{"names": ["mkdir"]`, `{"names": ["mkdir"], "comment": "x"`,
			`p.json:11:26: syscalls[4]: unknown field "comment" (want one of names, action, errnoRet, args)`},
		{"unknown arg field", `"value": 8, "op"`, `"value": 8, "valeu2": 1, "op"`,
			`p.json:10:94: syscalls[3].args[0]: unknown field "valeu2" (want one of index, value, valueTwo, op)`},
		{"field case", `{"names": ["read", "write"]`, `{"Names": ["read", "write"]`,
			`p.json:6:6: syscalls[0]: unknown field "Names" (field names are case-sensitive: "names")`},
		{"repeated field", `"defaultErrnoRet": 1,`, `"defaultErrnoRet": 1, "defaultErrnoRet": 2,`,
			"p.json:3:25: defaultErrnoRet: given twice (a repeated field would silently replace the first)"},
		{"wrong type", `["read", "write"]`, `["read", 7]`, "p.json:6:24: syscalls[0].names[1]: want a string, got number"},
		{"negative", `"defaultErrnoRet": 1`, `"defaultErrnoRet": -1`, "p.json:3:22: defaultErrnoRet: want an integer from 0 to 18446744073709551615, got number -1"},
		{"too big", `"value": 8,`, `"value": 18446744073709551616,`, "p.json:10:91: syscalls[3].args[0].value: want an integer from 0 to 18446744073709551615, got number 18446744073709551616"},
		{"args not a list", `"args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]`, `"args": "x"`, "p.json:10:68: syscalls[3].args: want a list, got string"},
		{"no default action", `"defaultAction": "SCMP_ACT_ERRNO",`, ``, "p.json:1:1: defaultAction: missing: a profile needs the action for calls no rule names"},
		{"unknown default action", `"defaultAction": "SCMP_ACT_ERRNO"`, `"defaultAction": "SCMP_ACT_ERRNOO"`, `p.json:2:20: defaultAction: unknown action "SCMP_ACT_ERRNOO"`},
		{"notify default", `"defaultAction": "SCMP_ACT_ERRNO"`, `"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/a.sock"`,
			"p.json:2:20: defaultAction: SCMP_ACT_NOTIFY cannot be the default action: the runtime itself would block on its agent"},
		{"errno with allow", `"defaultAction": "SCMP_ACT_ERRNO"`, `"defaultAction": "SCMP_ACT_ALLOW"`, "p.json:3:22: defaultErrnoRet: only used with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"},
		{"errno range", `"defaultErrnoRet": 1`, `"defaultErrnoRet": 70000`, "p.json:3:22: defaultErrnoRet: 70000 is not an errno (0 to 4095)"},
		{"unknown arch", `"SCMP_ARCH_AARCH64"]`, `"SCMP_ARCH_Z80"]`, `p.json:4:41: architectures[1]: unknown architecture "SCMP_ARCH_Z80"`},
		{"arch twice", `"SCMP_ARCH_AARCH64"]`, `"SCMP_ARCH_X86_64"]`, `p.json:4:41: architectures[1]: "SCMP_ARCH_X86_64" listed twice`},
		{"unknown flag", `"defaultErrnoRet": 1,`, `"defaultErrnoRet": 1, "flags": ["SECCOMP_FILTER_FLAG_LOUD"],`, `p.json:3:35: flags[0]: unknown flag "SECCOMP_FILTER_FLAG_LOUD"`},
		{"unknown field after a list", `"syscalls": [`, `"syscalls": [], "x": [`, `p.json:5:19: unknown field "x" (want one of defaultAction, defaultErrnoRet, architectures, flags, listenerPath, listenerMetadata, syscalls)`},
		{"empty rules", "", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}`, "p.json:1:49: syscalls: no rules: an empty profile either allows or refuses everything"},
		{"empty object", "", `{}`, "p.json:1:1: defaultAction: missing: a profile needs the action for calls no rule names"},
		{"unknown syscall", `["read", "write"]`, `["read", "mountt"]`, `p.json:6:24: syscalls[0].names[1]: unknown syscall "mountt" (did you mean "mount"?)`},
		{"unknown syscall no hint", `["read", "write"]`, `["read", "xyzzy_frob"]`, `p.json:6:24: syscalls[0].names[1]: unknown syscall "xyzzy_frob"`},
		{"empty names", `["mkdir"]`, `[]`, "p.json:11:15: syscalls[4].names: empty: a rule names at least one system call"},
		{"twice in a rule", `["read", "write"]`, `["read", "read"]`, `p.json:6:24: syscalls[0].names[1]: "read" named twice in this rule`},
		{"twice across rules", `["mkdir"]`, `["write"]`, `p.json:11:16: syscalls[4].names[0]: "write" with the same arguments is already in syscalls[0]`},
		{"same args", `"value": 8,`, `"value": 0,`, `p.json:10:16: syscalls[3].names[0]: "personality" with the same arguments is already in syscalls[2]`},
		{"unknown action", `"action": "SCMP_ACT_ERRNO"`, `"action": "SCMP_ACT_DENY"`, `p.json:11:36: syscalls[4].action: unknown action "SCMP_ACT_DENY"`},
		{"missing action", `, "action": "SCMP_ACT_ERRNO"`, ``, "p.json:11:5: syscalls[4].action: missing"},
		{"notify without agent", `"action": "SCMP_ACT_ERRNO"`, `"action": "SCMP_ACT_NOTIFY"`, "p.json:11:36: syscalls[4].action: SCMP_ACT_NOTIFY needs listenerPath, the agent that answers"},
		{"rule errno with allow", `"action": "SCMP_ACT_ERRNO"`, `"action": "SCMP_ACT_LOG"`, "p.json:11:64: syscalls[4].errnoRet: only used with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_LOG"},
		{"arg index", `"index": 0, "value": 8`, `"index": 6, "value": 8`, "p.json:10:79: syscalls[3].args[0].index: 6 is out of range: system calls have arguments 0 to 5"},
		{"unknown op", `"value": 8, "op": "SCMP_CMP_EQ"`, `"value": 8, "op": "EQ"`, `p.json:10:100: syscalls[3].args[0].op: unknown operator "EQ"`},
		{"valueTwo without mask", `"value": 8,`, `"value": 8, "valueTwo": 1,`, "p.json:10:106: syscalls[3].args[0].valueTwo: only used with SCMP_CMP_MASKED_EQ (value is the mask, valueTwo the result)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.new
			if c.old != "" {
				if !strings.Contains(valid, c.old) {
					t.Fatalf("%q is not in the valid profile", c.old)
				}
				doc = strings.Replace(valid, c.old, c.new, 1)
			}
			_, err := ParseSeccomp("p.json", []byte(doc))
			if err == nil {
				t.Fatalf("accepted:\n%s", doc)
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); first != c.want {
				t.Errorf("got:  %s\nwant: %s", first, c.want)
			}
		})
	}
}

// Every problem is reported, not just the first, up to a limit.
func TestParseSeccompReportsAllProblems(t *testing.T) {
	doc := `{"defaultAction": "SCMP_ACT_NOPE", "syscalls": [{"names": ["reed", "writ"], "action": "SCMP_ACT_ALLOW"}]}`
	_, err := ParseSeccomp("p.json", []byte(doc))
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`p.json:1:19: defaultAction: unknown action "SCMP_ACT_NOPE"`,
		`p.json:1:60: syscalls[0].names[0]: unknown syscall "reed" (did you mean "read"?)`,
		`p.json:1:68: syscalls[0].names[1]: unknown syscall "writ" (did you mean "write"?)`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	var names []string
	for i := range 30 {
		names = append(names, `"nope`+string(rune('a'+i%26))+string(rune('a'+i/26))+`"`)
	}
	many := `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [` + strings.Join(names, ",") + `], "action": "SCMP_ACT_ALLOW"}]}`
	_, err = ParseSeccomp("p.json", []byte(many))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxProblems+1 || lines[maxProblems] != "p.json: and 20 more problems" {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestLoadSeccomp(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(valid, `"write"`, `"wirte"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSeccomp(good); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSeccomp(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":6:24: syscalls[0].names[1]: unknown syscall \"wirte\"") {
		t.Errorf("got %v", err)
	}
	if _, err := LoadSeccomp(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("got %v", err)
	}
}

func TestSyscallTable(t *testing.T) {
	table, err := parseSyscallTable(syscallsTxt)
	if err != nil {
		t.Fatal(err)
	}
	if len(table) < 480 {
		t.Fatalf("only %d system calls", len(table))
	}
	for name, want := range map[string][]string{
		"read":               {"x86_64", "x32", "x86", "aarch64", "arm"},
		"arch_prctl":         {"x86_64", "x32", "x86"},
		"socketcall":         {"x86"},
		"set_tls":            {"arm"},
		"riscv_flush_icache": {},
	} {
		if got, ok := table[name]; !ok || !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	for _, bad := range []string{"read\n", "read x86_64 vax\n", "read x86\nread arm\n"} {
		if _, err := parseSyscallTable([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzParseSeccomp: no input panics the parser, and whatever it accepts
// survives a round trip through encoding/json.
func FuzzParseSeccomp(f *testing.F) {
	def, err := os.ReadFile(jsonPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	f.Add([]byte(valid))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParseSeccomp("fuzz.json", raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSeccomp("again.json", again); err != nil {
			t.Fatalf("accepted %q but not its re-encoding %s: %v", raw, again, err)
		}
	})
}
