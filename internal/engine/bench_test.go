package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

// benchPolicy is restricted-like: every control on, an image allowlist,
// readOnly mounts, and 50 exceptions of mixed specificity, most of which
// the benchmark container does not match (the realistic case: each
// exception's selectors are tried).
func benchPolicy() string {
	var b strings.Builder
	b.WriteString(`defaultMode: enforce
controls:
  hostNamespaces: {deny: [pid, ipc, network, uts]}
  hostMounts: {action: readOnly, extraPaths: [/srv/secrets, /opt/keys]}
  devices: {action: refuse, allow: ["/dev/fuse"]}
  seccomp: {unconfined: inject, localhost: refuse}
  images:
    allow: ["docker.io/library/*", "registry.k8s.io/*", "ghcr.io/acme/*", "rancher/*"]
    deny: ["*:latest", "*/evil/*"]
exceptions:
`)
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "  - name: team-%d\n    match:\n      namespaces: [team-%d]\n", i, i)
		if i%3 == 0 {
			fmt.Fprintf(&b, "      pods: [\"worker-%d-*\"]\n", i)
		}
		if i%5 == 0 {
			fmt.Fprintf(&b, "      labels: {app: svc-%d}\n", i)
		}
		fmt.Fprintf(&b, "    controls:\n      hostMounts: {allow: [/data/team-%d]}\n", i)
	}
	return b.String()
}

func benchContainer() *view.Container {
	return container(func(c *view.Container) {
		c.Pod.Namespace, c.Pod.Name = "team-49", "api-7d9f"
		c.Pod.Labels = map[string]string{"app": "api", "pod-template-hash": "7d9f"}
		c.Mounts = []view.Mount{
			{Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access", Destination: "/var/run/secrets/kubernetes.io/serviceaccount", Type: "bind", Options: []string{"rbind", "ro"}},
			{Source: "/var/lib/kubelet/pods/u1/etc-hosts", Destination: "/etc/hosts", Type: "bind", Options: []string{"rbind", "rw"}},
			{Source: "/var/lib/kubelet/pods/u1/containers/c1/1a2b", Destination: "/dev/termination-log", Type: "bind", Options: []string{"rbind", "rw"}},
			{Source: "/var/lib/rancher/k3s/agent/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hostname", Destination: "/etc/hostname", Type: "bind", Options: []string{"rbind", "rw"}},
			{Source: "/var/lib/rancher/k3s/agent/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/resolv.conf", Destination: "/etc/resolv.conf", Type: "bind", Options: []string{"rbind", "rw"}},
			{Source: "/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/shm", Destination: "/dev/shm", Type: "bind", Options: []string{"rbind", "rw"}},
			{Source: "/data/team-49/cache", Destination: "/cache", Type: "bind", Options: []string{"rbind", "rw"}},
			{Source: "proc", Destination: "/proc", Type: "proc"},
		}
		c.Namespaces = append(c.Namespaces, view.Namespace{Type: "uts", Path: "/proc/9/ns/uts"})
		c.Sysctls = map[string]string{"net.ipv4.ip_local_port_range": "1024 65000"}
		c.SysctlsKnown = true
	})
}

// BenchmarkDecide is one CreateContainer decision for an allowed
// container (the common case: every control runs to the end).
func BenchmarkDecide(b *testing.B) {
	e := testEngine(b, benchPolicy(), nil)
	c := benchContainer()
	if d := e.Decide(c); d.Action != Allow || d.Exception == nil || d.Exception.Name != "team-49" {
		b.Fatalf("benchmark container must be allowed via team-49: %s %v", d.Action, d.Findings)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(c)
	}
}

// BenchmarkDecideRefuse is a decision that refuses and formats the text.
func BenchmarkDecideRefuse(b *testing.B) {
	e := testEngine(b, benchPolicy(), nil)
	c := benchContainer()
	runMount(c)
	c.Namespaces = c.Namespaces[1:]
	b.ReportAllocs()
	for b.Loop() {
		d := e.Decide(c)
		_ = d.RefusalText()
	}
}
