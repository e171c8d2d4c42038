//go:build e2e_cluster

package cluster

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/internal/layout"
)

// The everyday workloads and K3s's own components again, each under a
// variant of the node's policy set by a drop-in while the node runs: the
// restricted preset with k3s-system, and user namespaces off. (The
// installer's own policy on this kernel remaps root into user
// namespaces, so the core tests run remapped; TestInstallerRemapsRoot
// holds it to that.) K3s's components are made again under the variant
// (their pods deleted, their controllers make new ones), so what K3s
// would run under that policy is what is checked; the drop-in is removed
// and they are made again at the end.

// variantDropIn is the drop-in's path on the node; 90- sorts it last.
var variantDropIn = layout.K3s().PolicyDir + "/90-e2e-variant.yaml"

// underPolicy puts a drop-in in force for the rest of the test: it
// deploys K3s's components first (under the installer's policy), waits
// until `nri-guard status` lists the drop-in in the policy in force, and
// at the end removes it and waits until it is gone again, then makes the
// components again under the installer's policy.
func underPolicy(t *testing.T, dropIn string) {
	t.Helper()
	ensureCoreDNS(t)
	ensureLocalPath(t)
	if err := node.writeOnNode(variantDropIn, dropIn, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(node.onNode(variantDropIn))
		waitPolicy(t, false)
		remakeComponents(t)
	})
	waitPolicy(t, true)
	out, err := run(node.inNode(node.guardBin, "policy", "show", "--policy", layout.K3s().Policy, "--policy-dir", layout.K3s().PolicyDir))
	t.Logf("the node's policy under the variant (%v):\n%s", err, out)
}

// waitPolicy waits until the plugin's policy in force does (or does not)
// include the variant's drop-in.
func waitPolicy(t *testing.T, included bool) {
	t.Helper()
	var status string
	if !pollUntil(30*time.Second, func() bool {
		status, _ = run(node.inNode(node.guardBin, "status"))
		for _, line := range strings.Split(status, "\n") {
			if strings.HasPrefix(line, "policy in force") {
				return strings.Contains(line, "90-e2e-variant.yaml") == included
			}
		}
		return false
	}) {
		t.Fatalf("the plugin did not reload the policy (drop-in in force: want %v):\n%s", included, status)
	}
}

// remakeComponents deletes the pods of K3s's components the tests have
// deployed so their controllers make them again under the policy now in
// force, and waits until they are Ready.
func remakeComponents(t *testing.T) {
	t.Helper()
	for _, c := range []*shared{coredns, localPath} {
		if _, err := node.kubectl("delete", "pods", "-n", c.ns, "-l", c.selector, "--wait=true", "--timeout=60s"); err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if err := waitReadyPods(c.ns, c.selector, 120*time.Second); err != nil {
			t.Errorf("%s made again: %v\n%s", c.what, err, notReady(c.ns, c.selector, c.podPrefix))
		}
	}
}

// check is one workload of the corpus, checked by its own answer in a
// namespace of the variant's.
type check struct {
	name string
	run  func(t *testing.T, ns string)
}

// corpus is the everyday workloads; a variant may run nginx otherwise.
func corpus(nginx check) []check {
	return []check{
		nginx,
		{"PostgreSQL row across a restart (local-path PVC)", postgresKeepsDataIn},
		{"Redis PING", redisAnswersIn},
		{"Python web app body", pywebServesIn},
	}
}

var nginxAsShipped = check{"nginx page by Service name (CoreDNS)", nginxServesIn}

// runCorpus makes namespace ns, makes K3s's components again under the
// policy in force, and runs every check there.
func runCorpus(t *testing.T, ns string, checks []check) {
	t.Helper()
	if _, err := node.kubectl("create", "namespace", ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteObjects(t, "namespace/"+ns) })
	remakeComponents(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, ns) })
	}
}

// TestWorkloadsInTheNodesUserNamespace: user namespaces off (a drop-in
// setting runAsRoot and userNamespaces to mode off), what a node gets
// whose kernel the installer's probe turned down: K3s's components (made
// again), the everyday workloads and a ServiceLB pod work there too.
func TestWorkloadsInTheNodesUserNamespace(t *testing.T) {
	defer count(t)
	underPolicy(t, `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
controls:
  runAsRoot: {mode: off}
  userNamespaces: {mode: off}
`)
	runCorpus(t, "node-userns", append(corpus(nginxAsShipped),
		check{"ServiceLB forwards the node's port", func(t *testing.T, _ string) { servicelbForwards(t, "svclb-nginx-e2e0hostuser", 8090) }}))
}

// TestWorkloadsUnderRestricted: the restricted preset with k3s-system and
// root containers remapped into user namespaces (the Standard allows root
// in a pod's own user namespace). nginx runs as its own user there: as
// shipped, its root master needs root's capabilities (writing www-data's
// directories, dropping to www-data), which restricted's drop ALL takes,
// user namespace or not; that shape is checked to break as the README
// says.
func TestWorkloadsUnderRestricted(t *testing.T) {
	defer count(t)
	underPolicy(t, `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
presets: [restricted]
controls:
  runAsRoot: {mode: enforce, action: remap}
`)
	runCorpus(t, "restricted", append(corpus(check{"nginx as www-data, page by Service name (CoreDNS)",
		func(t *testing.T, ns string) { nginxServesAs(t, ns, nginxAsItsUser) }}),
		check{"nginx as shipped (root master) cannot write its directories", nginxRootBreaks}))
}

// nginxRootBreaks runs nginx as shipped and wants it to fail at start on
// a directory of www-data's: root without capabilities is an ordinary
// user for files it does not own.
func nginxRootBreaks(t *testing.T, ns string) {
	ref := importImage(t, "nginx")
	t.Cleanup(func() { deleteObjects(t, "-n", ns, "pod/nginx-root") })
	mustApplyIn(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: nginx-root}
spec:
  restartPolicy: Never
  containers:
  - {name: nginx, image: %s, imagePullPolicy: Never}
`, ref))
	s := waitPod(t, ns, "nginx-root", 120*time.Second, "finished", succeeded)
	logs, _ := podLogs(ns, "nginx-root")
	if s.Phase != "Failed" || !strings.Contains(logs, "/run/nginx/nginx.pid\" failed (13: Permission denied)") {
		t.Fatalf("root nginx under restricted: phase %s, log:\n%s\nwant it to fail on its pid file", s.Phase, logs)
	}
	t.Logf("root nginx under restricted fails as documented: %s", strings.TrimSpace(strings.Split(logs, "\n")[0]))
}
