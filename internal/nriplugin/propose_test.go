package nriplugin

import (
	"context"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/policy"
)

// auditPolicy lets everything run and logs what enforce would do: the
// node an admin wants to move to enforce.
const auditPolicy = `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
defaultMode: audit
controls:
  sysctls: {allow: [kernel.shm_rmid_forced]}
exceptions:
  - name: metrics
    match: {namespaces: [monitoring]}
    controls:
      hostMounts: {allow: [/proc]}
`

func auditedPlugin(t *testing.T, doc string) *Plugin {
	t.Helper()
	pol, err := policy.Parse(policy.Input{Name: "/etc/nri-guard/policy.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Options{Index: "10", Configure: func(string) (*policy.Policy, controls.Profiles, error) { return pol, nil, nil }})
	if _, err := p.configureFor(context.Background(), "", "containerd", "v2.4.2", "v0.12.0"); err != nil {
		t.Fatal(err)
	}
	return p
}

func running(p *Plugin, pod *api.PodSandbox, ctr *api.Container, image string) {
	ctr.Id, ctr.PodSandboxId = pod.Name+"/"+ctr.Name, pod.Id
	ctr.Image = &api.Image{Name: image}
	p.containers.add(pod, ctr)
}

// Every refused workload gets the narrowest exception, and the drop-in
// lets all of them run when judged again; an escape shape is left to
// the admin.
func TestProposeLetsEveryRefusedWorkloadRun(t *testing.T) {
	p := auditedPlugin(t, auditPolicy)
	// Two replicas of a Deployment that needs a sysctl and the host's
	// /var/log: one exception for both.
	for _, name := range []string{"web-5d8f7c6b9d-abcde", "web-5d8f7c6b9d-fghij"} {
		pod := testPod("shop", name)
		pod.Labels = map[string]string{"pod-template-hash": "5d8f7c6b9d", "app": "web"}
		ctr := testContainer("nginx", &api.Mount{Destination: "/logs", Source: "/var/log", Type: "bind", Options: []string{"rbind", "rw"}})
		ctr.Linux.Sysctl = map[string]string{"net.core.somaxconn": "1024"}
		running(p, pod, ctr, "docker.io/library/nginx:1.27")
	}
	// A pod an exception already selects, refused for something else:
	// the proposal keeps what that exception allows.
	exporter := testPod("monitoring", "node-exporter-x2x9q")
	exporter.Labels = map[string]string{"controller-revision-hash": "6c9", "pod-template-generation": "1"}
	running(p, exporter, testContainer("exporter",
		&api.Mount{Destination: "/host/proc", Source: "/proc", Type: "bind", Options: []string{"rbind", "ro"}},
		&api.Mount{Destination: "/host/sys", Source: "/sys", Type: "bind", Options: []string{"rbind", "ro"}}), "quay.io/prometheus/node-exporter:v1.9.0")
	// A pod enforce allows as it is: no proposal.
	running(p, testPod("shop", "db-0"), testContainer("postgres"), "docker.io/library/postgres:17")

	props, err := p.Propose()
	if err != nil {
		t.Fatal(err)
	}
	if props.Proposed != 2 || len(props.NotProposed) != 0 {
		t.Fatalf("proposed %d, not proposed %v; want 2 and none:\n%s", props.Proposed, props.NotProposed, props.DropIn)
	}
	for _, want := range []string{
		"name: proposed-shop-web-nginx",
		"pods: ['web-*-?????']",
		"containers: [nginx]",
		"images: ['docker.io/library/nginx:1.27']",
		"allow: [kernel.shm_rmid_forced, net.core.somaxconn]",
		"allow: [/var/log]",
		"# shop/web-*-????? container nginx: the pods of Deployment web; 2 running container(s) refused now under enforce",
		"pods: ['node-exporter-?????']",
		"allow: [/proc, /sys]",
		"keeps what exception metrics",
	} {
		if !strings.Contains(props.DropIn, want) {
			t.Errorf("the drop-in lacks %q:\n%s", want, props.DropIn)
		}
	}
	// Installed, the file lets every one of them run under enforce.
	enforced := strings.Replace(auditPolicy, "defaultMode: audit", "defaultMode: enforce", 1)
	pol, err := policy.Parse(policy.Input{Name: "policy.yaml", Data: []byte(enforced)}, policy.Input{Name: "policy.d/90-proposed.yaml", Data: []byte(props.DropIn)})
	if err != nil {
		t.Fatalf("the drop-in does not load: %v\n%s", err, props.DropIn)
	}
	eng := engine.New(pol, nil, p.state.Load().runtime.Caller(p.name))
	for _, e := range p.containers.list() {
		if d := eng.Decide(p.view(p.state.Load(), e.pod, e.ctr)); d.Action == engine.Refuse {
			t.Errorf("%s/%s still refused with the drop-in: %v", e.pod.Name, e.ctr.Name, d.Findings)
		}
	}
	// And a pod that only looks like a replica is not selected.
	other := testPod("shop", "webhook")
	other.Labels = map[string]string{"pod-template-hash": "x"}
	ctr := testContainer("nginx", &api.Mount{Destination: "/logs", Source: "/var/log", Type: "bind", Options: []string{"rbind", "rw"}})
	ctr.Image = &api.Image{Name: "docker.io/library/nginx:1.27"}
	if d := eng.Decide(p.view(p.state.Load(), other, ctr)); d.Action != engine.Refuse {
		t.Errorf("pod webhook is selected by the proposal for web: %v", d.Exception)
	}
}

func TestProposeLeavesEscapesToTheAdmin(t *testing.T) {
	p := auditedPlugin(t, auditPolicy)
	pod := testPod("default", "bad")
	ctr := testContainer("c")
	ctr.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	// No network namespace of its own: the node's.
	ctr.Linux.Namespaces = append(ctr.Linux.Namespaces[:2:2], ctr.Linux.Namespaces[3:]...)
	running(p, pod, ctr, "docker.io/library/busybox:1")
	props, err := p.Propose()
	if err != nil {
		t.Fatal(err)
	}
	if props.Proposed != 0 || len(props.NotProposed) != 1 || !strings.Contains(props.NotProposed[0].Why, "not proposed: a net.* sysctl in the node's network namespace changes the node itself") {
		t.Fatalf("got %+v", props)
	}
}

func TestOwnerPattern(t *testing.T) {
	for _, tc := range []struct {
		name    string
		labels  map[string]string
		pattern string
	}{
		{"web-5d8f7c6b9d-abcde", map[string]string{"pod-template-hash": "5d8f7c6b9d"}, "web-*-?????"},
		{"web-abcde", map[string]string{"pod-template-hash": "5d8f7c6b9d"}, "web-abcde"}, // label lies
		{"db-0", map[string]string{"statefulset.kubernetes.io/pod-name": "db-0", "controller-revision-hash": "db-7f"}, "db-*"},
		{"svclb-traefik-x7k2p", map[string]string{"controller-revision-hash": "9c", "pod-template-generation": "1"}, "svclb-traefik-?????"},
		{"helm-install-traefik-abcde", map[string]string{"batch.kubernetes.io/job-name": "helm-install-traefik"}, "helm-install-traefik-?????"},
		{"backup-29004480-q2w3e", map[string]string{"job-name": "backup-29004480"}, "backup-*-?????"},
		{"kube-apiserver-node1", nil, "kube-apiserver-node1"},
		{"x", map[string]string{"pod-template-hash": "h"}, "x"},
	} {
		if got, _ := ownerPattern(tc.name, tc.labels); got != tc.pattern {
			t.Errorf("ownerPattern(%q, %v) = %q, want %q", tc.name, tc.labels, got, tc.pattern)
		}
	}
}
