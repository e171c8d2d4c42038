//go:build e2e_cluster

package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The everyday workloads: images composed from Debian's packages by
// e2e/images/build.sh, run with their own users and entrypoints, under
// the installer's policy (built-in defaults + k3s-system, enforce). No
// manifest gives them an emptyDir for what they write: the forced
// read-only root keeps its scratch directories writable.

var nginx = &shared{what: "nginx", ns: "default", selector: "app=nginx", podPrefix: "nginx-"}

// ensureNginx runs nginx as a Deployment behind the Service "nginx"
// (port 80), once per run.
func ensureNginx(t *testing.T) {
	t.Helper()
	nginx.ensure(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx}
spec:
  replicas: 1
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: %s
        imagePullPolicy: Never
        ports: [{containerPort: 80}]
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  selector: {app: nginx}
  ports: [{port: 80, targetPort: 80}]
`, importImage(t, "nginx")))
}

const nginxPage = "nri-guard e2e nginx page"

// fetchScript is the fetch pods' client: Python's urllib on the pyweb
// image (Debian's python3), retrying while Services and DNS settle.
// Debian 12's static busybox wget crashes (SIGSEGV) before it connects.
const fetchScript = `import sys, time, urllib.request
for _ in range(30):
    try:
        sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())
        sys.exit(0)
    except Exception as e:
        sys.stderr.write(f"{e}\n")
        time.sleep(1)
sys.exit(1)
`

// fetchOnce runs a pod that fetches url and returns what it printed.
func fetchOnce(t *testing.T, name, url string) string {
	t.Helper()
	ref := importImage(t, "pyweb")
	t.Cleanup(func() { deleteObjects(t, "pod/"+name) })
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  containers:
  - name: fetch
    image: %s
    imagePullPolicy: Never
    command: ["/usr/bin/python3.11", "-c", %q, %q]
`, name, ref, fetchScript, url))
	s := waitPod(t, "default", name, 120*time.Second, "finished", succeeded)
	logs, _ := podLogs("default", name)
	if s.Phase != "Succeeded" {
		t.Fatalf("fetching %s: phase %s, output %q\n%s", url, s.Phase, logs, describe("default", name))
	}
	return strings.TrimSpace(logs)
}

// TestNginxServesPageThroughService: nginx from Debian's package serves
// its page through a Service, fetched by name (CoreDNS) from another pod.
func TestNginxServesPageThroughService(t *testing.T) {
	defer count(t)
	ensureCoreDNS(t)
	ensureNginx(t)
	if body := fetchOnce(t, "fetch-nginx", "http://nginx.default.svc.cluster.local/"); body != nginxPage {
		t.Fatalf("nginx answered %q, want %q", body, nginxPage)
	}
	t.Logf("nginx served %q through nginx.default.svc.cluster.local", nginxPage)
}

// TestServiceLBForwardsNodePort: a ServiceLB pod as K3s's servicelb
// controller makes it (a DaemonSet svclb-SERVICE-HASH in kube-system, one
// lb-PROTO-PORT container of klipper-lb's shape per port, CAP_NET_ADMIN,
// net.ipv4.ip_forward in the pod's sysctls, the port as a hostPort)
// forwards the node's port to nginx's Service: the page is fetched from
// the node's own address.
func TestServiceLBForwardsNodePort(t *testing.T) {
	defer count(t)
	ensureNginx(t)
	k3sImage(t, "servicelb", klipperImage)
	ip := clusterIP(t, "nginx")
	const port = 8088
	t.Cleanup(func() { deleteObjects(t, "-n", "kube-system", "daemonset/svclb-nginx-e2e0a1b2") })
	mustApply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: svclb-nginx-e2e0a1b2, namespace: kube-system, labels: {svccontroller.k3s.cattle.io/svcname: nginx}}
spec:
  selector: {matchLabels: {app: svclb-nginx-e2e0a1b2}}
  template:
    metadata: {labels: {app: svclb-nginx-e2e0a1b2, svccontroller.k3s.cattle.io/svcname: nginx}}
    spec:
      priorityClassName: system-node-critical
      automountServiceAccountToken: false
      securityContext:
        sysctls: [{name: net.ipv4.ip_forward, value: "1"}]
      containers:
      - name: lb-tcp-%[2]d
        image: %[1]s
        imagePullPolicy: IfNotPresent
        env:
        - {name: SRC_PORT, value: "%[2]d"}
        - {name: SRC_RANGES, value: 0.0.0.0/0}
        - {name: DEST_PROTO, value: TCP}
        - {name: DEST_PORT, value: "80"}
        - {name: DEST_IPS, value: "%[3]s"}
        ports: [{name: lb-tcp-%[2]d, containerPort: %[2]d, hostPort: %[2]d, protocol: TCP}]
        securityContext:
          capabilities: {add: [NET_ADMIN]}
`, klipperImage, port, ip))
	if err := waitReadyPods("kube-system", "app=svclb-nginx-e2e0a1b2", 120*time.Second); err != nil {
		desc, _ := node.kubectl("describe", "pods", "-n", "kube-system", "-l", "app=svclb-nginx-e2e0a1b2")
		t.Fatalf("%v\n%s\ndecisions: %+v", err, desc, decisionsWhere("kube-system", "svclb-"))
	}
	url := fmt.Sprintf("http://%s:%d/", nodeIP, port)
	var body string
	if !pollUntil(60*time.Second, func() bool {
		out, err := run(node.inNode("curl", "-sS", "--max-time", "3", url))
		body = strings.TrimSpace(out)
		return err == nil && body == nginxPage
	}) {
		logs, _ := node.kubectl("logs", "-n", "kube-system", "-l", "app=svclb-nginx-e2e0a1b2")
		t.Fatalf("%s from the node: %q, want %q; servicelb log:\n%s", url, body, nginxPage, logs)
	}
	t.Logf("the node's %s forwarded by the ServiceLB pod to nginx's ClusterIP %s", url, ip)
}

// TestPostgresKeepsDataAcrossRestart: PostgreSQL from Debian's package,
// its data on a local-path volume, answers a query; the pod is deleted
// and made again, and the row written before is still there.
func TestPostgresKeepsDataAcrossRestart(t *testing.T) {
	defer count(t)
	ensureLocalPath(t)
	ref := importImage(t, "postgres")
	token := fmt.Sprintf("row-%s-%d", node.token, time.Now().UnixNano())
	t.Cleanup(func() { deleteObjects(t, "pod/postgres", "pvc/pg-data") })
	pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: postgres, labels: {app: postgres}}
spec:
  containers:
  - name: postgres
    image: %s
    imagePullPolicy: Never
    ports: [{containerPort: 5432}]
    volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: pg-data}}]
`, ref)
	mustApply(t, pvcManifest("pg-data", "256Mi")+pod)
	psql := func(sql string) (string, error) {
		var out string
		var err error
		pollUntil(90*time.Second, func() bool {
			out, err = node.kubectl("exec", "postgres", "--", "psql", "-h", "/run/postgresql", "-U", "postgres", "-tAc", sql)
			return err == nil
		})
		return out, err
	}
	waitPod(t, "default", "postgres", 120*time.Second, "running", running)
	if out, err := psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('" + token + "')"); err != nil {
		logs, _ := podLogs("default", "postgres")
		t.Fatalf("psql: %q %v\npostgres log:\n%s", out, err, logs)
	}
	if _, err := node.kubectl("delete", "pod", "postgres", "--wait=true", "--timeout=90s"); err != nil {
		t.Fatal(err)
	}
	mustApply(t, pod)
	waitPod(t, "default", "postgres", 120*time.Second, "running", running)
	out, err := psql("SELECT v FROM kept")
	if err != nil || out != token {
		logs, _ := podLogs("default", "postgres")
		t.Fatalf("after the restart SELECT answered %q (%v), want %q\npostgres log:\n%s", out, err, token, logs)
	}
	t.Logf("PostgreSQL answered %q after its pod was made again", out)
}

// TestRedisAnswersPing: Redis from Debian's package answers PING through
// its Service, asked by its own client from the image.
func TestRedisAnswersPing(t *testing.T) {
	defer count(t)
	ref := importImage(t, "redis")
	t.Cleanup(func() { deleteObjects(t, "pod/redis", "service/redis") })
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: redis, labels: {app: redis}}
spec:
  containers:
  - name: redis
    image: %s
    imagePullPolicy: Never
    ports: [{containerPort: 6379}]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: redis}
spec:
  selector: {app: redis}
  ports: [{port: 6379}]
`, ref))
	waitPod(t, "default", "redis", 120*time.Second, "running", running)
	ip := clusterIP(t, "redis")
	var out string
	var err error
	if !pollUntil(60*time.Second, func() bool {
		out, err = node.kubectl("exec", "redis", "--", "redis-cli", "-h", ip, "ping")
		return err == nil && out == "PONG"
	}) {
		logs, _ := podLogs("default", "redis")
		t.Fatalf("redis-cli -h %s ping: %q %v\nredis log:\n%s", ip, out, err, logs)
	}
	t.Logf("Redis answered PONG through ClusterIP %s", ip)
}

// TestPythonWebAppServesBody: a Python web app on Debian's python3
// serves its body through a Service.
func TestPythonWebAppServesBody(t *testing.T) {
	defer count(t)
	ref := importImage(t, "pyweb")
	t.Cleanup(func() { deleteObjects(t, "pod/pyweb", "service/pyweb") })
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: pyweb, labels: {app: pyweb}}
spec:
  containers:
  - name: app
    image: %s
    imagePullPolicy: Never
    ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: pyweb}
spec:
  selector: {app: pyweb}
  ports: [{port: 80, targetPort: 8080}]
`, ref))
	waitPod(t, "default", "pyweb", 120*time.Second, "running", running)
	ip := clusterIP(t, "pyweb")
	if body, want := fetchOnce(t, "fetch-pyweb", "http://"+ip+"/"), "nri-guard e2e pyweb"; body != want {
		t.Fatalf("pyweb answered %q, want %q", body, want)
	}
	t.Logf("pyweb served its body through ClusterIP %s", ip)
}
