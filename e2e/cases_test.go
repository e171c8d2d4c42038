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
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Policy and PolicyDir (paths relative to the repository) replace the
	// e2e default policy e2e/policies/policy.yaml and its drop-in
	// directory e2e/policies/policy.d. Cases with the same policy share
	// one containerd; each other policy costs one more containerd start.
	Policy    string `yaml:"policy"`
	PolicyDir string `yaml:"policyDir"`
	// Infra cases prove the harness itself: they pass with no guard
	// attached (NRI_GUARD_E2E_MODES=none) as well as with one.
	Infra       bool           `yaml:"infra"`
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

// execCheck runs a command in the container. In Contains and
// NotContains, ${HOST_NETNS} stands for the host's network namespace as
// readlink shows it (net:[4026531840]).
type execCheck struct {
	Cmd         []string `yaml:"cmd"`
	Equals      *string  `yaml:"equals"` // the whole output, trimmed
	Contains    string   `yaml:"contains"`
	NotContains string   `yaml:"notContains"`
	Fails       bool     `yaml:"fails"`
}

// decisionCheck wants a decision log line for the case's pod (its
// sandbox or container c1) with Action and, if Control is set, a finding of that
// control (with Mode, if set).
type decisionCheck struct {
	Action  string `yaml:"action"`
	Control string `yaml:"control"`
	Mode    string `yaml:"mode"`
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

// normalize turns YAML maps into JSON-ready maps and resolves the
// policy paths.
func normalize(c caseFile) caseFile {
	c.Pod = jsonRoundTrip(c.Pod)
	c.Container = jsonRoundTrip(c.Container)
	return c
}

// policyFor is the policy a case's guard runs with.
func (c *caseFile) policyFor() policyRef {
	if c.Policy == "" && c.PolicyDir == "" {
		return defaultPolicy
	}
	ref := policyRef{File: defaultPolicy.File}
	if c.Policy != "" {
		ref.File = filepath.Join(repoRoot, c.Policy)
	}
	if c.PolicyDir != "" {
		ref.Dir = filepath.Join(repoRoot, c.PolicyDir)
	}
	return ref
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

// run is one containerd version with the guard attached one way.
type run struct{ version, mode string }

// plan pairs versions with modes. Unset NRI_GUARD_E2E_MODES: versions
// take external and preregistered in turn (a single version runs both),
// which covers both modes with one containerd per version. Set: every
// version runs in every listed mode.
func plan() []run {
	var out []run
	if os.Getenv("NRI_GUARD_E2E_MODES") != "" {
		for _, v := range versions {
			for _, m := range modes {
				out = append(out, run{v, m})
			}
		}
		return out
	}
	for i := 0; i < max(len(versions), len(modes)); i++ {
		out = append(out, run{versions[i%len(versions)], modes[i%len(modes)]})
	}
	return out
}

// caseGroup is the cases that share one environment.
type caseGroup struct {
	policy policyRef
	cases  []caseFile
	exps   []expectation
}

// groupCases picks the cases that apply to r and groups them by policy.
func groupCases(cases []caseFile, r run) []*caseGroup {
	var groups []*caseGroup
	byPolicy := map[policyRef]*caseGroup{}
	for _, c := range cases {
		exp, ok := c.expectFor(r.version)
		if !ok || (r.mode == "none" && !c.Infra) {
			continue
		}
		pol := c.policyFor()
		g := byPolicy[pol]
		if g == nil {
			g = &caseGroup{policy: pol}
			byPolicy[pol] = g
			groups = append(groups, g)
		}
		g.cases, g.exps = append(g.cases, c), append(g.exps, exp)
	}
	return groups
}

func (g *caseGroup) label() string {
	if g.policy == defaultPolicy {
		return "default-policy"
	}
	rel, _ := filepath.Rel(repoRoot, g.policy.File)
	return strings.ReplaceAll(rel, "/", "_")
}

// TestCases runs every case file against every containerd version.
func TestCases(t *testing.T) {
	cases := loadCases(t)
	for _, r := range plan() {
		t.Run(r.version+"/"+r.mode, func(t *testing.T) {
			for _, g := range groupCases(cases, r) {
				t.Run(g.label(), func(t *testing.T) { runGroup(t, r, g) })
			}
		})
	}
}

// runGroup starts one environment and runs its cases in parallel (pod
// names carry the case and version, so they never collide). If the
// environment cannot start, its cases count as failed.
func runGroup(t *testing.T, r run, g *caseGroup) {
	started := false
	defer func() {
		// Cases of a run being torn down (signal, timeout) are not run
		// rather than failed: the interruption itself counts once.
		if !started && !stopping.Load() {
			failed.Add(int64(len(g.cases)))
			t.Logf("%d cases not run: the environment did not start", len(g.cases))
		}
	}()
	e := newEnvWith(t, r.version, r.mode, g.policy)
	started = true
	for i, c := range g.cases {
		exp := g.exps[i]
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			defer count(t)
			runCase(t, e, c, exp)
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
		// The NRI plugin refuses at create; the runtime wrapper only runs
		// at start (runc create); a refused sandbox fails runp.
		if err == nil {
			_, err = e.crictl("start", id)
		}
		checkRefused(t, e, c, exp, id, err)
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
		checkExec(t, e, id, x)
	}
	checkDecision(t, e, name, exp.Decision)
}

func checkRefused(t *testing.T, e *env, c caseFile, exp expectation, id string, err error) {
	name := c.Name + "-" + strings.ReplaceAll(strings.TrimPrefix(e.version, "v"), ".", "")
	if err == nil {
		t.Fatalf("%s: created and started (%s), want refused with %q\ndecisions: %v", c.Name, id, exp.Refused, e.decisionsFor(name))
	}
	if !strings.Contains(err.Error(), exp.Refused) {
		t.Fatalf("%s: refusal\n  %v\nlacks\n  %s", c.Name, err, exp.Refused)
	}
	checkDecision(t, e, name, exp.Decision)
}

func checkExec(t *testing.T, e *env, id string, x execCheck) {
	out, err := e.crictl(append([]string{"exec", id}, x.Cmd...)...)
	if x.Fails != (err != nil) {
		t.Errorf("exec %v: err=%v, want failure=%v (output %q)", x.Cmd, err, x.Fails, out)
	}
	if x.Equals != nil && out != expand(*x.Equals) {
		t.Errorf("exec %v: output %q, want %q", x.Cmd, out, expand(*x.Equals))
	}
	got := out + errText(err)
	if want := expand(x.Contains); !strings.Contains(got, want) {
		t.Errorf("exec %v: output %q lacks %q", x.Cmd, got, want)
	}
	if bad := expand(x.NotContains); bad != "" && strings.Contains(got, bad) {
		t.Errorf("exec %v: output %q contains %q", x.Cmd, got, bad)
	}
}

// expand replaces the placeholders case files may use.
func expand(s string) string {
	if !strings.Contains(s, "${HOST_NETNS}") {
		return s
	}
	ns, _ := os.Readlink("/proc/self/ns/net")
	return strings.ReplaceAll(s, "${HOST_NETNS}", ns)
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
	if e.mode == "none" {
		t.Fatalf("case expects a decision, but no guard is attached; mark it infra only if it needs none")
	}
	for _, rec := range e.decisionsFor(pod) {
		// The pod sandbox's record (from the runtime wrapper) has no
		// container name; the case's own container is c1.
		if c := rec["container"]; rec["action"] == want.Action && (c == nil || c == "" || c == "c1") && hasFinding(rec, want) {
			return
		}
	}
	t.Errorf("no decision log line for pod %s with action %s and control %q; have: %v", pod, want.Action, want.Control, e.decisionsFor(pod))
}

func hasFinding(rec map[string]any, want *decisionCheck) bool {
	if want.Control == "" {
		return true
	}
	findings, _ := rec["findings"].([]any)
	return slices.ContainsFunc(findings, func(f any) bool {
		m, _ := f.(map[string]any)
		return m["control"] == want.Control && (want.Mode == "" || m["mode"] == want.Mode)
	})
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
