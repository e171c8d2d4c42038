//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/e2e/internal/cases"
)

type (
	caseFile    = cases.File
	expectation = cases.Expectation
)

func loadCases(t *testing.T) []caseFile {
	out, err := cases.Load(filepath.Join(repoRoot, "e2e", "cases"))
	must(t, err)
	return out
}

// policyFor is the policy a case's guard runs with.
func policyFor(c *caseFile) policyRef {
	file, dir := c.PolicyFiles()
	ref := policyRef{File: filepath.Join(repoRoot, file)}
	if dir != "" {
		ref.Dir = filepath.Join(repoRoot, dir)
	}
	return ref
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
		exp, ok := c.ExpectFor(r.version)
		if !ok || (r.mode == "none" && !c.Infra) {
			continue
		}
		pol := policyFor(&c)
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
	name := c.PodName(e.version)
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
	name := c.PodName(e.version)
	if err == nil {
		t.Fatalf("%s: created and started (%s), want refused with %q\ndecisions: %v", c.Name, id, exp.Refused, e.decisionsFor(name))
	}
	if !strings.Contains(err.Error(), exp.Refused) {
		t.Fatalf("%s: refusal\n  %v\nlacks\n  %s", c.Name, err, exp.Refused)
	}
	checkDecision(t, e, name, exp.Decision)
}

func checkExec(t *testing.T, e *env, id string, x cases.ExecCheck) {
	out, err := e.crictl(append([]string{"exec", id}, x.Cmd...)...)
	hostNetNS, _ := os.Readlink("/proc/self/ns/net")
	for _, p := range cases.ExecProblems(x, out, err, hostNetNS) {
		t.Error(p)
	}
}

func checkDecision(t *testing.T, e *env, pod string, want *cases.DecisionCheck) {
	if want == nil {
		return
	}
	if e.mode == "none" {
		t.Fatalf("case expects a decision, but no guard is attached; mark it infra only if it needs none")
	}
	for _, rec := range e.decisionsFor(pod) {
		// The pod sandbox's record (from the runtime wrapper) has no
		// container name.
		container, _ := rec["container"].(string)
		action, _ := rec["action"].(string)
		if want.Matches(action, container, findingsOf(rec)) {
			return
		}
	}
	t.Errorf("no decision log line for pod %s with action %s and control %q; have: %v", pod, want.Action, want.Control, e.decisionsFor(pod))
}

func findingsOf(rec map[string]any) []cases.Finding {
	var out []cases.Finding
	list, _ := rec["findings"].([]any)
	for _, f := range list {
		m, _ := f.(map[string]any)
		control, _ := m["control"].(string)
		mode, _ := m["mode"].(string)
		out = append(out, cases.Finding{Control: control, Mode: mode})
	}
	return out
}

func checkSpec(t *testing.T, e *env, id string, checks []cases.SpecCheck) {
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
	for _, p := range cases.Problems(doc.Info.RuntimeSpec, checks) {
		t.Error(p)
	}
}
