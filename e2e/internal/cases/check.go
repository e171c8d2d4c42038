package cases

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Problems judges the spec checks against a runtime spec (JSON decoded
// into maps) and says what does not hold, one line each.
func Problems(spec any, checks []SpecCheck) []string {
	var out []string
	for _, c := range checks {
		v, found := Lookup(spec, c.Path)
		switch {
		case c.Absent:
			if found {
				out = append(out, fmt.Sprintf("spec %s: present (%v), want absent", c.Path, v))
			}
		case !found:
			out = append(out, fmt.Sprintf("spec %s: absent", c.Path))
		case c.Equals != nil && fmt.Sprint(v) != fmt.Sprint(c.Equals):
			out = append(out, fmt.Sprintf("spec %s = %v, want %v", c.Path, v, c.Equals))
		case c.Contains != "" && !containsValue(v, c.Contains):
			out = append(out, fmt.Sprintf("spec %s = %v, want it to contain %q", c.Path, v, c.Contains))
		}
	}
	return out
}

var stepRE = regexp.MustCompile(`^([^\[]+)(?:\[([^=]+)=(.*)\])?$`)

// Lookup follows a dotted path (mounts[destination=/logs].options) into
// a decoded JSON document.
func Lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, step := range strings.Split(path, ".") {
		m := stepRE.FindStringSubmatch(step)
		obj, ok := cur.(map[string]any)
		if m == nil || !ok {
			return nil, false
		}
		if cur, ok = obj[m[1]]; !ok {
			return nil, false
		}
		if m[2] == "" {
			continue
		}
		list, _ := cur.([]any)
		idx := slices.IndexFunc(list, func(x any) bool {
			item, _ := x.(map[string]any)
			return fmt.Sprint(item[m[2]]) == m[3]
		})
		if idx < 0 {
			return nil, false
		}
		cur = list[idx]
	}
	return cur, true
}

func containsValue(v any, want string) bool {
	if list, ok := v.([]any); ok {
		return slices.ContainsFunc(list, func(x any) bool { return fmt.Sprint(x) == want })
	}
	return strings.Contains(fmt.Sprint(v), want)
}

// ExecProblems judges one exec check's answer (out, and err when the
// command failed) and says what does not hold; hostNetNS stands in for
// ${HOST_NETNS}.
func ExecProblems(x ExecCheck, out string, err error, hostNetNS string) []string {
	expand := func(s string) string { return strings.ReplaceAll(s, "${HOST_NETNS}", hostNetNS) }
	var problems []string
	if x.Fails != (err != nil) {
		problems = append(problems, fmt.Sprintf("exec %v: err=%v, want failure=%v (output %q)", x.Cmd, err, x.Fails, out))
	}
	if x.Equals != nil && out != expand(*x.Equals) {
		problems = append(problems, fmt.Sprintf("exec %v: output %q, want %q", x.Cmd, out, expand(*x.Equals)))
	}
	got := out
	if err != nil {
		got += err.Error()
	}
	if want := expand(x.Contains); !strings.Contains(got, want) {
		problems = append(problems, fmt.Sprintf("exec %v: output %q lacks %q", x.Cmd, got, want))
	}
	if bad := expand(x.NotContains); bad != "" && strings.Contains(got, bad) {
		problems = append(problems, fmt.Sprintf("exec %v: output %q contains %q", x.Cmd, got, bad))
	}
	return problems
}

// Finding is what a decision check reads of a decision log line.
type Finding struct{ Control, Mode string }

// Matches says whether a decision log line of the case's pod (its
// action, the container it is for, "" for the sandbox, and its
// findings) is the one the check wants. The case's own container is c1.
func (want *DecisionCheck) Matches(action, container string, findings []Finding) bool {
	if action != want.Action || (container != "" && container != "c1") {
		return false
	}
	return want.Control == "" || slices.ContainsFunc(findings, func(f Finding) bool {
		return f.Control == want.Control && (want.Mode == "" || f.Mode == want.Mode)
	})
}
