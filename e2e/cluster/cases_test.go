//go:build e2e_cluster

package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/cases"
	"github.com/nri-guard/nri-guard/internal/layout"
)

// The e2e cases (e2e/cases/), which the crictl suite makes straight
// through CRI, applied here with kubectl as the pods the kubelet turns
// into the same CRI calls (e2e/internal/cases): each under the node
// policy the case names, put in place of the installer's while the
// cases of that policy run, and checked against what the case says must
// happen. Where the kubelet makes the pod otherwise than crictl does (a
// field a pod cannot set, one the kubelet sets itself), the case says
// so and what holds instead. Pod Security admission's verdicts for the
// same pods stand beside nri-guard's in e2e/cluster/cases-table.md.

// caseRun is one case on the bed.
type caseRun struct {
	file                 cases.File
	name                 string // the pod's
	doc                  string // the pod as JSON without its namespace, for admission's dry run
	manifest             string // the pod as JSON, applied
	exp                  cases.Expectation
	baseline, restricted verdict
	guard                string
}

// casePolicy is a node policy some cases run under: a file and a
// drop-in directory of the repository ("" for none).
type casePolicy struct{ file, dir string }

func policyOf(c *cases.File) casePolicy {
	file, dir := c.PolicyFiles()
	return casePolicy{file, dir}
}

// TestCasesThroughKubectl applies every e2e case with kubectl and checks
// what the case says must happen: the refusal's text in the pod's
// Warning event, or the running container's spec, its answers to
// commands and nri-guard's decision.
func TestCasesThroughKubectl(t *testing.T) {
	// Each case counts once; a failure before or around them, once more.
	before := passed.Load() + failed.Load()
	defer func() {
		if t.Failed() && passed.Load()+failed.Load() == before {
			failed.Add(1)
		}
	}()
	all, err := cases.Load(filepath.Join(repoRoot, "e2e", "cases"))
	if err != nil {
		t.Fatal(err)
	}
	var runs []*caseRun
	var namespaces []string
	for _, c := range all {
		exp, ok := c.ExpectThroughKubelet(containerdVersion)
		if !ok {
			continue
		}
		r, err := newCaseRun(c, exp)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
		if c.Namespace != "kube-system" && !slices.Contains(namespaces, c.Namespace) {
			namespaces = append(namespaces, c.Namespace)
		}
	}
	admissionNamespaces(t, namespaces...)
	names, docs := make([]string, len(runs)), make([]string, len(runs))
	for i, r := range runs {
		names[i], docs[i] = r.name, r.doc
	}
	for i, v := range admissionVerdicts(t, psaBaselineNS, names, docs) {
		runs[i].baseline = v
	}
	for i, v := range admissionVerdicts(t, psaRestrictedNS, names, docs) {
		runs[i].restricted = v
	}
	var policies []casePolicy
	for _, r := range runs {
		if p := policyOf(&r.file); !slices.Contains(policies, p) {
			policies = append(policies, p)
		}
	}
	for _, p := range policies {
		t.Run(strings.ReplaceAll(p.file, "/", "_"), func(t *testing.T) {
			var group []*caseRun
			for _, r := range runs {
				if policyOf(&r.file) == p {
					group = append(group, r)
				}
			}
			runUnderPolicy(t, p, group)
		})
	}
	if err := os.WriteFile(filepath.Join(repoRoot, "e2e", "cluster", "cases-table.md"), []byte(casesTable(runs)), 0o644); err != nil {
		t.Error(err)
	}
}

func newCaseRun(c cases.File, exp cases.Expectation) (*caseRun, error) {
	r := &caseRun{file: c, name: c.PodName(containerdVersion), exp: exp}
	pod, err := c.KubePod(r.name)
	if err != nil {
		return nil, err
	}
	manifest, _ := json.Marshal(pod)
	delete(pod["metadata"].(map[string]any), "namespace")
	doc, _ := json.Marshal(pod)
	r.manifest, r.doc = string(manifest), string(doc)
	return r, nil
}

// runUnderPolicy puts the policy in force, creates the group's pods at
// once (they come up side by side), checks each, and removes them.
func runUnderPolicy(t *testing.T, p casePolicy, group []*caseRun) {
	underCasePolicy(t, p)
	var docs []string
	for _, r := range group {
		docs = append(docs, r.manifest)
	}
	t.Cleanup(func() {
		// One delete a namespace: its pods go in one wait.
		byNamespace := map[string][]string{}
		for _, r := range group {
			byNamespace[r.file.Namespace] = append(byNamespace[r.file.Namespace], r.name)
		}
		for ns, pods := range byNamespace {
			args := append([]string{"delete", "pod", "-n", ns, "--grace-period=0", "--force", "--ignore-not-found", "--wait=true", "--timeout=60s"}, pods...)
			if _, err := node.kubectl(args...); err != nil {
				t.Logf("removing the pods of %s: %v", ns, err)
			}
		}
	})
	mustApply(t, strings.Join(docs, "\n---\n"))
	for _, r := range group {
		t.Run(r.file.Name, func(t *testing.T) {
			defer count(t)
			judgeCase(t, r)
		})
	}
}

// judgeCase checks one case's expectation on its pod and records
// nri-guard's verdict for the table.
func judgeCase(t *testing.T, r *caseRun) {
	ns, exp := r.file.Namespace, r.exp
	defer func() { r.guard = settledVerdict(ns, r.name) }()
	switch {
	case exp.Kubelet != "":
		// The kubelet stops the pod before any CRI call: nothing of
		// nri-guard's to see.
		if !pollUntil(90*time.Second, func() bool { return strings.Contains(guardVerdict(ns, r.name), exp.Kubelet) }) {
			t.Fatalf("%s: the kubelet did not stop it with %s: %s\n%s", r.name, exp.Kubelet, guardVerdict(ns, r.name), describe(ns, r.name))
		}
		return
	case exp.Refused != "":
		expectWarningCarries(t, ns, r.name, exp.Refused, 90*time.Second)
	default:
		s := waitPod(t, ns, r.name, 90*time.Second, "running", running)
		checkCaseSpec(t, s, exp.Spec)
		hostNetNS, _ := run(node.inNode("readlink", "/proc/self/ns/net"))
		for _, x := range exp.Exec {
			out, err := node.kubectl(append([]string{"exec", "-n", ns, r.name, "-c", "c1", "--"}, x.Cmd...)...)
			for _, p := range cases.ExecProblems(x, out, err, strings.TrimSpace(hostNetNS)) {
				t.Error(p)
			}
		}
	}
	if want := exp.Decision; want != nil && !pollUntil(10*time.Second, func() bool {
		return slices.ContainsFunc(decisions(ns, r.name), func(d decision) bool {
			var findings []cases.Finding
			for _, f := range d.Findings {
				findings = append(findings, cases.Finding{Control: f.Control, Mode: f.Mode})
			}
			return want.Matches(d.Action, d.Container, findings)
		})
	}) {
		t.Errorf("no decision log line for %s/%s with action %s and control %q; have: %+v", ns, r.name, want.Action, want.Control, decisions(ns, r.name))
	}
}

// settledVerdict is guardVerdict once the pod is decided.
func settledVerdict(ns, pod string) string {
	var v string
	pollUntil(10*time.Second, func() bool { v = guardVerdict(ns, pod); return v != "" })
	if v == "" {
		s, _ := getPod(ns, pod)
		v = "not decided: " + s.Phase
	}
	return v
}

// checkCaseSpec judges the spec checks against the runtime spec
// containerd holds for the container (crictl inspect), as the crictl
// suite does.
func checkCaseSpec(t *testing.T, s podStatus, checks []cases.SpecCheck) {
	if len(checks) == 0 {
		return
	}
	if len(s.ContainerStatuses) == 0 {
		t.Fatal("no container status")
	}
	id := strings.TrimPrefix(s.ContainerStatuses[0].ContainerID, "containerd://")
	out, err := node.crictl("inspect", "-o", "json", id)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info struct {
			RuntimeSpec any `json:"runtimeSpec"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range cases.Problems(doc.Info.RuntimeSpec, checks) {
		t.Error(p)
	}
}

// underCasePolicy puts a case policy in force on the node in place of
// the installer's (its file as the node's policy file, its drop-ins as
// the node's drop-ins) until the test ends, when the installer's come
// back. Files are written beside their place and renamed, so the
// plugin's reload never reads half a file.
func underCasePolicy(t *testing.T, p casePolicy) {
	t.Helper()
	l := layout.K3s()
	saved := map[string][]byte{}
	entries, _ := os.ReadDir(node.onNode(l.PolicyDir))
	for _, path := range append([]string{l.Policy}, dirFiles(l.PolicyDir, entries)...) {
		if data, err := os.ReadFile(node.onNode(path)); err == nil {
			saved[path] = data
		}
	}
	t.Cleanup(func() {
		clearDropIns(t, l.PolicyDir)
		for path, data := range saved {
			placeOnNode(t, path, data)
		}
		waitPolicyOnDisk(t)
	})
	clearDropIns(t, l.PolicyDir)
	placeOnNode(t, l.Policy, mustRead(t, filepath.Join(repoRoot, p.file)))
	if p.dir != "" {
		dropIns, _ := os.ReadDir(filepath.Join(repoRoot, p.dir))
		for _, e := range dropIns {
			placeOnNode(t, l.PolicyDir+"/"+e.Name(), mustRead(t, filepath.Join(repoRoot, p.dir, e.Name())))
		}
	}
	waitPolicyOnDisk(t)
}

func dirFiles(dir string, entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, dir+"/"+e.Name())
	}
	return out
}

func clearDropIns(t *testing.T, dir string) {
	entries, _ := os.ReadDir(node.onNode(dir))
	for _, path := range dirFiles(dir, entries) {
		if err := os.Remove(node.onNode(path)); err != nil {
			t.Error(err)
		}
	}
}

// placeOnNode writes a file on the node by a rename from the
// directory above it (out of a drop-in directory's sight).
func placeOnNode(t *testing.T, path string, data []byte) {
	tmp := filepath.Dir(filepath.Dir(path)) + "/.e2e-" + filepath.Base(path)
	if err := node.writeOnNode(tmp, string(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(node.onNode(tmp), node.onNode(path)); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// waitPolicyOnDisk waits until the plugin's policy in force is the
// policy files as they are on the node, and fails when a change did not
// load.
func waitPolicyOnDisk(t *testing.T) {
	t.Helper()
	var status string
	if !pollUntil(30*time.Second, func() bool {
		status, _ = run(node.inNode(node.guardBin, "status"))
		return strings.Contains(status, "the policy files on disk are the policy in force") && !strings.Contains(status, "did NOT load")
	}) {
		t.Fatalf("the plugin did not take the policy files on the node:\n%s", status)
	}
}

// casesTable is the Markdown table of the cases: admission's verdicts
// and nri-guard's through the kubelet, and how the case differs from
// its crictl run.
func casesTable(runs []*caseRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- written by e2e/cluster TestCasesThroughKubectl (Kubernetes %s, containerd %s); do not edit -->\n", kubeVersion, containerdVersion)
	b.WriteString("Each e2e case (`e2e/cases/NAME.yaml`, whose description says what nri-guard does and why) applied with kubectl: Pod Security admission's verdict in a namespace enforcing baseline and one enforcing restricted (server-side dry run), and nri-guard's on the node under the case's policy, checked against the case's expectation.\n\n")
	b.WriteString("| case | node policy, namespace | PSA baseline | PSA restricted | nri-guard through the kubelet | unlike crictl's run |\n|---|---|---|---|---|---|\n")
	for _, r := range runs {
		p := policyOf(&r.file)
		where := strings.TrimPrefix(p.file, "e2e/policies/")
		if p.dir != "" {
			where += " + " + strings.TrimPrefix(p.dir, "e2e/policies/")
		}
		differs := ""
		if k := r.file.Kubelet; k != nil {
			differs = k.Why
		}
		fmt.Fprintf(&b, "| %s | %s, %s | %s | %s | %s | %s |\n", r.file.Name, where, r.file.Namespace,
			cell(r.baseline.String()), cell(r.restricted.String()), cell(r.guard), cell(differs))
	}
	b.WriteString("\nWhere admission's verdict and nri-guard's differ, the reason is what the case is about (below) ")
	b.WriteString("or one of the per-check notes under [admission-table.md](admission-table.md): nri-guard judges the ")
	b.WriteString("node's policy for the case's namespace, rewrites where admission refuses, and sees what runs rather than the manifest.\n\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "- `%s`: %s\n", r.file.Name, strings.Join(strings.Fields(r.file.Description), " "))
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "/") }
