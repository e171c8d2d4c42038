//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// caseFile is one e2e case: a pod, a container and what must happen.
// Adding a case is adding a file under e2e/cases/.
type caseFile struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Namespace   string         `yaml:"namespace"`
	HostNetwork bool           `yaml:"hostNetwork"`
	MinVersion  string         `yaml:"minVersion"`
	Pod         map[string]any `yaml:"pod"`
	Container   map[string]any `yaml:"container"`
	Expect      expectation    `yaml:"expect"`
	// ExpectOn replaces Expect on containerd versions with this prefix
	// ("v2.1"): what the guard can promise differs by runtime.
	ExpectOn map[string]expectation `yaml:"expectOn"`
}

type expectation struct {
	// Refused is a fragment of the error crictl must show.
	Refused  string         `yaml:"refused"`
	Running  bool           `yaml:"running"`
	Spec     []specCheck    `yaml:"spec"`
	Exec     []execCheck    `yaml:"exec"`
	Decision *decisionCheck `yaml:"decision"`
}

// specCheck looks at crictl inspect's info.runtimeSpec. Path is dotted;
// an array step may select by field: mounts[destination=/logs].options.
type specCheck struct {
	Path     string `yaml:"path"`
	Equals   any    `yaml:"equals"`
	Contains string `yaml:"contains"`
	Present  bool   `yaml:"present"`
	Absent   bool   `yaml:"absent"`
}

type execCheck struct {
	Cmd      []string `yaml:"cmd"`
	Contains string   `yaml:"contains"`
	Fails    bool     `yaml:"fails"`
}

type decisionCheck struct {
	Action  string `yaml:"action"`
	Control string `yaml:"control"`
}

func loadCases(t *testing.T) []caseFile {
	files, err := filepath.Glob(filepath.Join(repoRoot, "e2e", "cases", "*.yaml"))
	must(t, err)
	var out []caseFile
	for _, f := range files {
		data, err := os.ReadFile(f)
		must(t, err)
		var c caseFile
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Name == "" {
			c.Name = strings.TrimSuffix(filepath.Base(f), ".yaml")
		}
		if c.Namespace == "" {
			c.Namespace = "e2e"
		}
		out = append(out, normalize(c))
	}
	if len(out) == 0 {
		t.Fatal("no cases under e2e/cases")
	}
	return out
}

// normalize turns YAML maps into JSON-ready maps.
func normalize(c caseFile) caseFile {
	c.Pod = jsonRoundTrip(c.Pod)
	c.Container = jsonRoundTrip(c.Container)
	return c
}

func jsonRoundTrip(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	data, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}

func (c *caseFile) expectFor(version string) (expectation, bool) {
	if c.MinVersion != "" && semver.Compare(version, c.MinVersion) < 0 {
		return expectation{}, false
	}
	for prefix, exp := range c.ExpectOn {
		if strings.HasPrefix(version, prefix) {
			return exp, true
		}
	}
	return c.Expect, true
}

// TestCases runs every case file against every containerd version.
func TestCases(t *testing.T) {
	cases := loadCases(t)
	for i, v := range versions {
		mode := modeFor(i)
		t.Run(v+"/"+mode, func(t *testing.T) {
			e := newEnv(t, v, mode)
			t.Run("cases", func(t *testing.T) {
				for _, c := range cases {
					exp, ok := c.expectFor(v)
					if !ok {
						continue
					}
					t.Run(c.Name, func(t *testing.T) {
						t.Parallel()
						defer count(t)
						runCase(t, e, c, exp)
					})
				}
			})
		})
	}
}

func count(t *testing.T) {
	if t.Failed() {
		failed.Add(1)
	} else {
		passed.Add(1)
	}
}

func runCase(t *testing.T, e *env, c caseFile, exp expectation) {
	name := c.Name + "-" + strings.ReplaceAll(strings.TrimPrefix(e.version, "v"), ".", "")
	p := e.newPod(c.Namespace, name, c.HostNetwork, c.Pod)
	defer p.remove()
	id, err := p.create(c.Container)
	if exp.Refused != "" {
		if err == nil {
			t.Fatalf("%s: created (%s), want refused with %q\ndecisions: %v", c.Name, id, exp.Refused, e.decisionsFor(name))
		}
		if !strings.Contains(err.Error(), exp.Refused) {
			t.Fatalf("%s: refusal\n  %v\nlacks\n  %s", c.Name, err, exp.Refused)
		}
		checkDecision(t, e, name, exp.Decision)
		return
	}
	if err != nil {
		t.Fatalf("%s: want it created, got %v", c.Name, err)
	}
	if exp.Running {
		if _, err := e.crictl("start", id); err != nil {
			t.Fatalf("%s: start: %v", c.Name, err)
		}
	}
	checkSpec(t, e, id, exp.Spec)
	for _, x := range exp.Exec {
		out, err := e.crictl(append([]string{"exec", id}, x.Cmd...)...)
		if x.Fails != (err != nil) {
			t.Errorf("%s: exec %v: err=%v, want failure=%v (output %q)", c.Name, x.Cmd, err, x.Fails, out)
		}
		if got := out + errText(err); !strings.Contains(got, x.Contains) {
			t.Errorf("%s: exec %v output %q lacks %q", c.Name, x.Cmd, got, x.Contains)
		}
	}
	checkDecision(t, e, name, exp.Decision)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkDecision(t *testing.T, e *env, pod string, want *decisionCheck) {
	if want == nil {
		return
	}
	for _, rec := range e.decisionsFor(pod) {
		if rec["action"] != want.Action {
			continue
		}
		if want.Control == "" {
			return
		}
		findings, _ := rec["findings"].([]any)
		for _, f := range findings {
			if m, _ := f.(map[string]any); m["control"] == want.Control {
				return
			}
		}
	}
	t.Errorf("no decision log line for pod %s with action %s and control %q; have: %v", pod, want.Action, want.Control, e.decisionsFor(pod))
}

func checkSpec(t *testing.T, e *env, id string, checks []specCheck) {
	if len(checks) == 0 {
		return
	}
	out, err := e.crictl("inspect", "-o", "json", id)
	must(t, err)
	var doc struct {
		Info struct {
			RuntimeSpec any `json:"runtimeSpec"`
		} `json:"info"`
	}
	must(t, json.Unmarshal([]byte(out), &doc))
	for _, c := range checks {
		v, found := lookup(doc.Info.RuntimeSpec, c.Path)
		switch {
		case c.Absent:
			if found {
				t.Errorf("spec %s: present (%v), want absent", c.Path, v)
			}
		case !found:
			t.Errorf("spec %s: absent", c.Path)
		case c.Equals != nil && fmt.Sprint(v) != fmt.Sprint(c.Equals):
			t.Errorf("spec %s = %v, want %v", c.Path, v, c.Equals)
		case c.Contains != "" && !containsValue(v, c.Contains):
			t.Errorf("spec %s = %v, want it to contain %q", c.Path, v, c.Contains)
		}
	}
}

var stepRE = regexp.MustCompile(`^([^\[]+)(?:\[([^=]+)=(.*)\])?$`)

func lookup(doc any, path string) (any, bool) {
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
