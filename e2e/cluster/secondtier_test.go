//go:build e2e_cluster

package cluster

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The second tier: K3s's heavier packaged components, metrics-server
// (`kubectl top` through the aggregation layer) and helm-controller with
// a HelmChart installed by its helm Job. Their binaries are the slowest
// to build from a cold Go cache, so they run when `e2e/images/build.sh
// full` has put them in the e2e cache, or when E2E_CLUSTER_FULL=1 asks
// for them (run.sh builds them first, and a missing one is a failure);
// otherwise they are reported as skipped.

var fullTier = os.Getenv("E2E_CLUSTER_FULL") != ""

const (
	metricsServerImage = "docker.io/rancher/mirrored-metrics-server:v0.8.0"
	klipperHelmImage   = "docker.io/rancher/klipper-helm:v0.13.3"
)

var helmControllerBin = filepath.Join(workloadImagesDir, "bin", "helm-controller-v0.17.9", "helm-controller")

// needSecondTier skips (or, under E2E_CLUSTER_FULL, fails) a test whose
// images or binaries are not in the cache.
func needSecondTier(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			if fullTier {
				t.Fatalf("E2E_CLUSTER_FULL=1 but %s is missing (e2e/images/build.sh full)", f)
			}
			t.Skipf("second tier: %s not built (E2E_CLUSTER_FULL=1 or e2e/images/build.sh full)", f)
		}
	}
}

func imageTar(name string) string { return filepath.Join(workloadImagesDir, name+".tar") }

// metricsServerManifest is K3s's manifests/metrics-server as K3s renders
// it (service account, RBAC, Deployment, Service, APIService), with one
// change for the bed: the kubelet serves a self-signed certificate here,
// so metrics-server does not verify it.
func metricsServerManifest() string {
	return fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: metrics-server, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-server"}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:metrics-server"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:metrics-server"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "metrics-server:system:auth-delegator"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: metrics-server-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  selector: {matchLabels: {k8s-app: metrics-server}}
  template:
    metadata: {name: metrics-server, labels: {k8s-app: metrics-server}}
    spec:
      priorityClassName: system-node-critical
      serviceAccountName: metrics-server
      volumes: [{name: tmp-dir, emptyDir: {}}]
      containers:
      - name: metrics-server
        image: %s
        imagePullPolicy: IfNotPresent
        args:
        - --cert-dir=/tmp
        - --secure-port=10250
        - --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
        - --kubelet-use-node-status-port
        - --metric-resolution=15s
        - --kubelet-insecure-tls
        ports: [{name: https, containerPort: 10250, protocol: TCP}]
        readinessProbe:
          httpGet: {path: /readyz, port: https, scheme: HTTPS}
          periodSeconds: 2
        securityContext:
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          runAsUser: 1000
          allowPrivilegeEscalation: false
        volumeMounts: [{name: tmp-dir, mountPath: /tmp}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system, labels: {kubernetes.io/name: "Metrics-server"}}
spec:
  selector: {k8s-app: metrics-server}
  ports: [{port: 443, name: https, protocol: TCP, targetPort: https}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
`, metricsServerImage)
}

// topLine is a `kubectl top` row: a name, then CPU in millicores.
var topLine = regexp.MustCompile(`(?m)^(\S+)\s+([0-9]+)m\s`)

// TestMetricsServerAnswersTop: metrics-server, deployed as K3s deploys
// it, answers `kubectl top node` for the node and `kubectl top pod` for
// CoreDNS, through the apiserver's aggregation layer.
func TestMetricsServerAnswersTop(t *testing.T) {
	defer count(t)
	needSecondTier(t, imageTar("metrics-server"))
	ensureCoreDNS(t)
	k3sImage(t, "metrics-server", metricsServerImage)
	mustApply(t, metricsServerManifest())
	if err := waitReadyPods("kube-system", "k8s-app=metrics-server", 120*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, notReady("kube-system", "k8s-app=metrics-server", "metrics-server-"))
	}
	answers := func(args []string, name string) string {
		var out string
		if !pollUntil(120*time.Second, func() bool {
			out, _ = node.kubectl(args...)
			for _, m := range topLine.FindAllStringSubmatch(out, -1) {
				if strings.HasPrefix(m[1], name) {
					return true
				}
			}
			return false
		}) {
			logs, _ := node.kubectl("logs", "-n", "kube-system", "-l", "k8s-app=metrics-server", "--tail=20")
			t.Fatalf("kubectl %s: no row for %s:\n%s\nmetrics-server log:\n%s", strings.Join(args, " "), name, out, logs)
		}
		return out
	}
	nodeTop := answers([]string{"top", "node"}, nodeName)
	podTop := answers([]string{"top", "pod", "-n", "kube-system"}, "coredns-")
	t.Logf("kubectl top node:\n%s\nkubectl top pod -n kube-system:\n%s", nodeTop, podTop)
}

// chartArchive is a helm chart (a .tgz) whose one template is a ConfigMap
// carrying the value "token": the release's own output, read back by the
// test.
func chartArchive(t *testing.T) []byte {
	t.Helper()
	files := []struct{ name, body string }{
		{"e2e-chart/Chart.yaml", "apiVersion: v2\nname: e2e-chart\nversion: 0.1.0\n"},
		{"e2e-chart/values.yaml", "token: none\n"},
		{"e2e-chart/templates/answer.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-answer\ndata:\n  token: {{ .Values.token | quote }}\n"},
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHelmChartInstalls: helm-controller, run on the node as K3s runs it
// (inside its server, with klipper-helm as the Job image), installs a
// HelmChart through its helm Job; the ConfigMap the chart renders carries
// the value the HelmChart set.
func TestHelmChartInstalls(t *testing.T) {
	defer count(t)
	needSecondTier(t, imageTar("klipper-helm"), helmControllerBin)
	k3sImage(t, "klipper-helm", klipperHelmImage)
	startHelmController(t)
	token := "helm-" + node.token
	chart := base64.StdEncoding.EncodeToString(chartArchive(t))
	t.Cleanup(func() {
		deleteObjects(t, "-n", "kube-system", "helmchart/e2e-chart")
		deleteObjects(t, "configmap/e2e-chart-answer")
	})
	mustApply(t, fmt.Sprintf(`apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: e2e-chart, namespace: kube-system}
spec:
  chartContent: %s
  targetNamespace: default
  set: {token: %q}
`, chart, token))
	var got string
	if !pollUntil(180*time.Second, func() bool {
		got, _ = node.kubectl("get", "configmap", "e2e-chart-answer", "-o", "jsonpath={.data.token}")
		return got == token
	}) {
		desc, _ := node.kubectl("describe", "pods", "-n", "kube-system", "-l", "helmcharts.helm.cattle.io/chart=e2e-chart")
		logs, _ := node.kubectl("logs", "-n", "kube-system", "-l", "helmcharts.helm.cattle.io/chart=e2e-chart", "--tail=30")
		t.Fatalf("the chart's ConfigMap has token %q, want %q\n%s\nhelm job log:\n%s\ndecisions: %+v\nhelm-controller log:\n%s",
			got, token, desc, logs, decisionsWhere("kube-system", "helm-install-e2e-chart"), tail(node.path("logs", "helm-controller.log"), 20))
	}
	if len(decisionsWhere("kube-system", "helm-install-e2e-chart")) == 0 {
		t.Fatal("the helm Job's pod has no decision of nri-guard's")
	}
	t.Logf("the HelmChart's Job installed the chart: e2e-chart-answer.token = %q", got)
}

// startHelmController starts helm-controller on the node once per run
// and waits until its HelmChart CRD is established.
func startHelmController(t *testing.T) {
	t.Helper()
	if node.daemonNamed("helm-controller") == nil {
		if _, err := node.daemon("helm-controller", nil, helmControllerBin,
			"--kubeconfig", node.path("admin.kubeconfig"), "--default-job-image", klipperHelmImage, "--node-name", nodeName); err != nil {
			t.Fatal(err)
		}
	}
	if err := node.waitFor("the HelmChart CRD", node.daemonNamed("helm-controller"), 90*time.Second, func() bool {
		out, err := node.kubectl("get", "crd", "helmcharts.helm.cattle.io", "-o", "jsonpath={.status.conditions[?(@.type==\"Established\")].status}")
		return err == nil && out == "True"
	}); err != nil {
		t.Fatal(err)
	}
}
