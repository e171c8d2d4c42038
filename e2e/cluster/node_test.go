//go:build e2e_cluster

package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNodeReady: the kubelet registered the node with the runtime and
// version the bed runs, it is Ready, and nri-guard (started by containerd
// from the installed plugin directory) says it is connected.
func TestNodeReady(t *testing.T) {
	defer count(t)
	out, err := node.kubectl("get", "node", nodeName, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var n struct {
		Status struct {
			Conditions []struct{ Type, Status string }
			NodeInfo   struct{ KubeletVersion, ContainerRuntimeVersion string }
			Addresses  []struct{ Type, Address string }
		}
	}
	if err := json.Unmarshal([]byte(out), &n); err != nil {
		t.Fatal(err)
	}
	ready := ""
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			ready = c.Status
		}
	}
	if ready != "True" {
		t.Errorf("node Ready = %q, want True", ready)
	}
	if n.Status.NodeInfo.KubeletVersion != kubeVersion {
		t.Errorf("kubelet version %q, want %s", n.Status.NodeInfo.KubeletVersion, kubeVersion)
	}
	if want := "containerd://" + strings.TrimPrefix(containerdVersion, "v"); !strings.HasPrefix(n.Status.NodeInfo.ContainerRuntimeVersion, want) {
		t.Errorf("runtime %q, want %s", n.Status.NodeInfo.ContainerRuntimeVersion, want)
	}
	if len(n.Status.Addresses) == 0 || n.Status.Addresses[0].Address != nodeIP {
		t.Errorf("node addresses %v, want %s first", n.Status.Addresses, nodeIP)
	}
	status, err := run(node.inNode(node.guardBin, "status"))
	if err != nil || !strings.Contains(status, "connected to containerd") {
		t.Errorf("nri-guard status on the node: %v\n%s", err, status)
	}
	t.Logf("node %s Ready: kubelet %s, %s; nri-guard status:\n%s", nodeName, n.Status.NodeInfo.KubeletVersion,
		n.Status.NodeInfo.ContainerRuntimeVersion, status)
}

// TestServiceServesBody: a busybox httpd pod serves a body unique to the
// run through a ClusterIP Service (kube-proxy's iptables rules), and
// another pod fetches it; the client's own output is the proof.
func TestServiceServesBody(t *testing.T) {
	defer count(t)
	body := fmt.Sprintf("served-by-web-%s-%d", node.token, time.Now().UnixNano())
	t.Cleanup(func() { deleteObjects(t, "pod/web", "pod/fetch", "service/web") })
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: httpd
    image: %[1]s
    imagePullPolicy: Never
    # The root filesystem is read-only under the guard: the page lives
    # on an emptyDir.
    command: ["sh", "-c", "echo %[2]s > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080}]
    volumeMounts: [{name: www, mountPath: /www}]
  volumes: [{name: www, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`, busyboxRef, body))
	waitPod(t, "default", "web", 90*time.Second, "running", running)
	ip := clusterIP(t, "default", "web")
	// kube-proxy may not have synced the Service's rules yet: the client
	// retries.
	if got := fetchOnce(t, "default", "fetch", "http://"+ip+":80/"); got != body {
		t.Fatalf("fetch through Service %s: got %q, want %q", ip, got, body)
	}
	t.Logf("fetched %q through ClusterIP %s", body, ip)
}

// TestInstallerRemapsRoot: on this kernel (Linux 6.3 or later) the
// installer's probe turned user namespaces on, so a root pod under the
// installer's policy is uid 0 inside and an unprivileged uid of the
// pool on the node: the node's /proc says so, not the pod.
func TestInstallerRemapsRoot(t *testing.T) {
	defer count(t)
	install := readFile(node.path("logs", "install.log"))
	if !strings.Contains(install, "user namespaces: root in a container is not root on the node") {
		t.Fatalf("the installer did not turn user namespaces on here:\n%s", install)
	}
	t.Cleanup(func() { deleteObjects(t, "pod/root-remapped") })
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: root-remapped, namespace: default}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: %s, imagePullPolicy: Never, command: [sleep, "3600"]}
`, busyboxRef))
	s := waitPod(t, "default", "root-remapped", 90*time.Second, "running", running)
	if out, err := node.kubectl("exec", "root-remapped", "--", "id", "-u"); err != nil || out != "0" {
		t.Fatalf("id -u inside: %q %v, want 0", out, err)
	}
	id := strings.TrimPrefix(s.ContainerStatuses[0].ContainerID, "containerd://")
	out, err := node.crictl("inspect", "-o", "go-template", "--template", "{{.info.pid}}", id)
	if err != nil {
		t.Fatal(err)
	}
	status := readFile("/proc/" + strings.TrimSpace(out) + "/status") // the bed shares the pid namespace
	var uid uint64
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			fmt.Sscan(rest, &uid)
		}
	}
	if uid < 0x70000000 {
		t.Fatalf("the pod's root is uid %d on the node, want one of the pool's (from %d):\n%s", uid, 0x70000000, status)
	}
	t.Logf("root in the pod is uid %d on the node (installer: user namespaces on)", uid)
}
