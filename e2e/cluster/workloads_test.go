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
	nginx.ensure(t, nginxManifest(importImage(t, "nginx"), ""))
}

// nginxAsItsUser runs nginx's master as www-data, the shape the
// restricted Standard asks for: its pid file, temporary and log
// directories are www-data's in the image.
const nginxAsItsUser = "{runAsUser: 33, runAsGroup: 33, runAsNonRoot: true}"

// nginxManifest is nginx as a Deployment behind the Service "nginx", with
// the container's securityContext if one is given.
func nginxManifest(ref, securityContext string) string {
	if securityContext != "" {
		securityContext = "\n        securityContext: " + securityContext
	}
	return fmt.Sprintf(`apiVersion: apps/v1
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
          periodSeconds: 2%s
---
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  selector: {app: nginx}
  ports: [{port: 80, targetPort: 80}]
`, ref, securityContext)
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
        sys.stderr.write(f"retry: {e}\n")
        time.sleep(1)
sys.exit(1)
`

// fetchOnce runs a pod in namespace ns that fetches url and returns what
// it printed, without its retries (the log has stderr too).
func fetchOnce(t *testing.T, ns, name, url string) string {
	t.Helper()
	ref := importImage(t, "pyweb")
	t.Cleanup(func() { deleteObjects(t, "-n", ns, "pod/"+name) })
	mustApplyIn(t, ns, fmt.Sprintf(`apiVersion: v1
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
	s := waitPod(t, ns, name, 120*time.Second, "finished", succeeded)
	logs, _ := podLogs(ns, name)
	if s.Phase != "Succeeded" {
		t.Fatalf("fetching %s: phase %s, output %q\n%s", url, s.Phase, logs, describe(ns, name))
	}
	var body []string
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "retry: ") {
			body = append(body, line)
		}
	}
	return strings.TrimSpace(strings.Join(body, "\n"))
}

// TestNginxServesPageThroughService: nginx from Debian's package serves
// its page through a Service, fetched by name (CoreDNS) from another pod.
func TestNginxServesPageThroughService(t *testing.T) {
	defer count(t)
	ensureCoreDNS(t)
	ensureNginx(t)
	expectNginxPage(t, "default")
}

// expectNginxPage fetches nginx's page in namespace ns by its Service's
// name (CoreDNS) from another pod.
func expectNginxPage(t *testing.T, ns string) {
	t.Helper()
	name := "nginx." + ns + ".svc.cluster.local"
	if body := fetchOnce(t, ns, "fetch-nginx", "http://"+name+"/"); body != nginxPage {
		t.Fatalf("nginx answered %q, want %q", body, nginxPage)
	}
	t.Logf("nginx served %q through %s", nginxPage, name)
}

// nginxServesIn deploys nginx in namespace ns and fetches its page.
func nginxServesIn(t *testing.T, ns string) { nginxServesAs(t, ns, "") }

// nginxServesAs deploys nginx with the securityContext given in
// namespace ns and fetches its page.
func nginxServesAs(t *testing.T, ns, securityContext string) {
	t.Cleanup(func() { deleteObjects(t, "-n", ns, "deployment/nginx", "service/nginx") })
	mustApplyIn(t, ns, nginxManifest(importImage(t, "nginx"), securityContext))
	if err := waitReadyPods(ns, "app=nginx", 120*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, notReady(ns, "app=nginx", "nginx-"))
	}
	expectNginxPage(t, ns)
}

// TestServiceLBForwardsNodePort: a ServiceLB pod as K3s's servicelb
// controller makes it (a DaemonSet svclb-SERVICE-HASH in kube-system, one
// lb-PROTO-PORT container of klipper-lb's shape per port, CAP_NET_ADMIN,
// net.ipv4.ip_forward in the pod's sysctls, the port as a hostPort)
// forwards the node's port to nginx's Service: the page is fetched from
// the node's own address.
func TestServiceLBForwardsNodePort(t *testing.T) {
	defer count(t)
	servicelbForwards(t, "svclb-nginx-e2e0a1b2", 8088)
}

// servicelbForwards runs the ServiceLB DaemonSet name forwarding the
// node's port to nginx's Service and fetches the page from the node.
func servicelbForwards(t *testing.T, name string, port int) {
	ensureNginx(t)
	k3sImage(t, "servicelb", klipperImage)
	ip := clusterIP(t, "default", "nginx")
	selector := "app=" + name
	t.Cleanup(func() { deleteObjects(t, "-n", "kube-system", "daemonset/"+name) })
	mustApply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: %[4]s, namespace: kube-system, labels: {svccontroller.k3s.cattle.io/svcname: nginx}}
spec:
  selector: {matchLabels: {app: %[4]s}}
  template:
    metadata: {labels: {app: %[4]s, svccontroller.k3s.cattle.io/svcname: nginx}}
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
`, klipperImage, port, ip, name))
	if err := waitReadyPods("kube-system", selector, 120*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, notReady("kube-system", selector, name))
	}
	url := fmt.Sprintf("http://%s:%d/", nodeIP, port)
	var body string
	if !pollUntil(60*time.Second, func() bool {
		out, err := run(node.inNode("curl", "-sS", "--max-time", "3", url))
		body = strings.TrimSpace(out)
		return err == nil && body == nginxPage
	}) {
		logs, _ := node.kubectl("logs", "-n", "kube-system", "-l", selector)
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
	postgresKeepsDataIn(t, "default")
}

func postgresKeepsDataIn(t *testing.T, ns string) {
	ref := importImage(t, "postgres")
	token := fmt.Sprintf("row-%s-%d", node.token, time.Now().UnixNano())
	t.Cleanup(func() { deleteObjects(t, "-n", ns, "pod/postgres", "pvc/pg-data") })
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
	mustApplyIn(t, ns, pvcManifest("pg-data", "256Mi")+pod)
	psql := func(sql string) (string, error) {
		var out string
		var err error
		pollUntil(90*time.Second, func() bool {
			out, err = node.kubectl("exec", "-n", ns, "postgres", "--", "psql", "-h", "/run/postgresql", "-U", "postgres", "-tAc", sql)
			return err == nil
		})
		return out, err
	}
	waitPod(t, ns, "postgres", 120*time.Second, "running", running)
	if out, err := psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('" + token + "')"); err != nil {
		logs, _ := podLogs(ns, "postgres")
		t.Fatalf("psql: %q %v\npostgres log:\n%s", out, err, logs)
	}
	if _, err := node.kubectl("delete", "pod", "-n", ns, "postgres", "--wait=true", "--timeout=90s"); err != nil {
		t.Fatal(err)
	}
	mustApplyIn(t, ns, pod)
	waitPod(t, ns, "postgres", 120*time.Second, "running", running)
	out, err := psql("SELECT v FROM kept")
	if err != nil || out != token {
		logs, _ := podLogs(ns, "postgres")
		t.Fatalf("after the restart SELECT answered %q (%v), want %q\npostgres log:\n%s", out, err, token, logs)
	}
	t.Logf("PostgreSQL answered %q after its pod was made again", out)
}

// TestRedisAnswersPing: Redis from Debian's package answers PING through
// its Service, asked by its own client from the image.
func TestRedisAnswersPing(t *testing.T) {
	defer count(t)
	redisAnswersIn(t, "default")
}

func redisAnswersIn(t *testing.T, ns string) {
	ref := importImage(t, "redis")
	t.Cleanup(func() { deleteObjects(t, "-n", ns, "pod/redis", "service/redis") })
	mustApplyIn(t, ns, fmt.Sprintf(`apiVersion: v1
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
	waitPod(t, ns, "redis", 120*time.Second, "running", running)
	ip := clusterIP(t, ns, "redis")
	var out string
	var err error
	if !pollUntil(60*time.Second, func() bool {
		out, err = node.kubectl("exec", "-n", ns, "redis", "--", "redis-cli", "-h", ip, "ping")
		return err == nil && out == "PONG"
	}) {
		logs, _ := podLogs(ns, "redis")
		t.Fatalf("redis-cli -h %s ping: %q %v\nredis log:\n%s", ip, out, err, logs)
	}
	t.Logf("Redis answered PONG through ClusterIP %s", ip)
}

// TestPythonWebAppServesBody: a Python web app on Debian's python3
// serves its body through a Service.
func TestPythonWebAppServesBody(t *testing.T) {
	defer count(t)
	pywebServesIn(t, "default")
}

func pywebServesIn(t *testing.T, ns string) {
	ref := importImage(t, "pyweb")
	t.Cleanup(func() { deleteObjects(t, "-n", ns, "pod/pyweb", "service/pyweb") })
	mustApplyIn(t, ns, fmt.Sprintf(`apiVersion: v1
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
	waitPod(t, ns, "pyweb", 120*time.Second, "running", running)
	ip := clusterIP(t, ns, "pyweb")
	if body, want := fetchOnce(t, ns, "fetch-pyweb", "http://"+ip+"/"), "nri-guard e2e pyweb"; body != want {
		t.Fatalf("pyweb answered %q, want %q", body, want)
	}
	t.Logf("pyweb served its body through ClusterIP %s", ip)
}
