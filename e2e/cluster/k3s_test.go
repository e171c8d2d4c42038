//go:build e2e_cluster

package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// K3s's packaged components as K3s names their images (docker.io, the
// node's system registry), so the k3s-system preset's exceptions, which
// select by image, apply as on a K3s node. Each is the image e2e/images/
// build.sh composed from the component's Go module at K3s's pin.
const (
	corednsImage   = "docker.io/rancher/mirrored-coredns-coredns:1.14.7"
	localPathImage = "docker.io/rancher/local-path-provisioner:v0.0.37"
	helperImage    = "docker.io/rancher/mirrored-library-busybox:1.37.0"
	klipperImage   = "docker.io/rancher/klipper-lb:v0.4.17"
)

// k3sImage loads a workload image and gives it K3s's name as its only
// name: containerd names a container's image by the image's reference,
// which is what the exceptions match.
func k3sImage(t *testing.T, name, ref string) {
	t.Helper()
	if _, ok := imported.Load("k3s:" + ref); ok {
		return
	}
	own := importImage(t, name)
	if out, err := node.ctr("images", "tag", "--force", own, ref); err != nil {
		t.Fatalf("tagging %s as %s: %v\n%s", own, ref, err, out)
	}
	if out, err := node.ctr("images", "rm", own); err != nil {
		t.Fatalf("removing the name %s: %v\n%s", own, err, out)
	}
	imported.Delete(name)
	imported.Store("k3s:"+ref, ref)
}

var coredns = &shared{what: "CoreDNS", ns: "kube-system", selector: "k8s-app=kube-dns", podPrefix: "coredns-"}

// ensureCoreDNS deploys CoreDNS the way K3s's manifests/coredns.yaml
// does (its ServiceAccount and RBAC, the Corefile K3s writes, the
// Deployment's security context, the kube-dns Service at the cluster DNS
// address) and waits until it is Ready, once per run.
func ensureCoreDNS(t *testing.T) {
	t.Helper()
	k3sImage(t, "coredns", corednsImage)
	coredns.ensure(t, corednsManifest())
}

// waitReadyPods waits until every pod matching selector is Ready.
func waitReadyPods(ns, selector string, limit time.Duration) error {
	var last string
	if pollUntil(limit, func() bool {
		out, err := node.kubectl("get", "pods", "-n", ns, "-l", selector, "-o",
			`jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status};{end}`)
		last = out
		return err == nil && out != "" && !strings.Contains(out, "=False") && strings.Count(out, "=True") == strings.Count(out, ";")
	}) {
		return nil
	}
	return fmt.Errorf("pods %s in %s not Ready within %s: %s", selector, ns, limit, last)
}

// decisionsWhere are the decision log's records for pods of ns whose
// name starts with prefix.
func decisionsWhere(ns, prefix string) []decision {
	var out []decision
	for _, line := range strings.Split(readFile(node.onNode(decisionLogPath)), "\n") {
		var d decision
		if json.Unmarshal([]byte(line), &d) == nil && d.Namespace == ns && strings.HasPrefix(d.Pod, prefix) {
			out = append(out, d)
		}
	}
	return out
}

func corednsManifest() string {
	return fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
          pods insecure
          fallthrough in-addr.arpa ip6.arpa
        }
        hosts /etc/coredns/NodeHosts {
          ttl 60
          reload 15s
          fallthrough
        }
        prometheus :9153
        forward . /etc/resolv.conf
        cache 30
        loop
        reload
        loadbalance
        import /etc/coredns/custom/*.override
    }
    import /etc/coredns/custom/*.server
  NodeHosts: |
    %[2]s %[3]s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      nodeSelector: {kubernetes.io/os: linux}
      containers:
      - name: coredns
        image: %[1]s
        imagePullPolicy: IfNotPresent
        args: ["-conf", "/etc/coredns/Corefile"]
        resources:
          limits: {memory: 170Mi}
          requests: {cpu: 100m, memory: 70Mi}
        volumeMounts:
        - {name: config-volume, mountPath: /etc/coredns, readOnly: true}
        - {name: custom-config-volume, mountPath: /etc/coredns/custom, readOnly: true}
        ports:
        - {containerPort: 53, name: dns, protocol: UDP}
        - {containerPort: 53, name: dns-tcp, protocol: TCP}
        - {containerPort: 9153, name: metrics, protocol: TCP}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {add: [NET_BIND_SERVICE], drop: [all]}
          readOnlyRootFilesystem: true
        livenessProbe:
          httpGet: {path: /health, port: 8080, scheme: HTTP}
          initialDelaySeconds: 60
          periodSeconds: 10
        readinessProbe:
          httpGet: {path: /ready, port: 8181, scheme: HTTP}
          periodSeconds: 2
      dnsPolicy: Default
      volumes:
      - name: config-volume
        configMap:
          name: coredns
          items: [{key: Corefile, path: Corefile}, {key: NodeHosts, path: NodeHosts}]
      - name: custom-config-volume
        configMap: {name: coredns-custom, optional: true}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/cluster-service: "true", kubernetes.io/name: CoreDNS}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: %[4]s
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: metrics, port: 9153, protocol: TCP}
`, corednsImage, nodeIP, nodeName, clusterDNSIP)
}

// TestCoreDNSAnswersServiceName: CoreDNS, deployed as K3s deploys it and
// running under the installer's policy, answers a pod's lookup of a
// Service name with that Service's ClusterIP, and of the node's name
// with its address (K3s's NodeHosts). The client is busybox's nslookup
// through the resolv.conf the kubelet gave the pod.
func TestCoreDNSAnswersServiceName(t *testing.T) {
	defer count(t)
	ensureCoreDNS(t)
	t.Cleanup(func() { deleteObjects(t, "pod/lookup", "service/named") })
	mustApply(t, `apiVersion: v1
kind: Service
metadata: {name: named}
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
`)
	ip := clusterIP(t, "default", "named")
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: lookup}
spec:
  restartPolicy: Never
  containers:
  - name: nslookup
    image: %s
    imagePullPolicy: Never
    command: ["sh", "-c", "cat /etc/resolv.conf; for i in $(seq 20); do nslookup named.default.svc.cluster.local && nslookup %s. && exit 0; sleep 1; done; exit 1"]
`, busyboxRef, nodeName))
	s := waitPod(t, "default", "lookup", 90*time.Second, "finished", succeeded)
	logs, err := podLogs("default", "lookup")
	if err != nil {
		t.Fatalf("logs of lookup: %v", err)
	}
	if s.Phase != "Succeeded" || !strings.Contains(logs, "nameserver "+clusterDNSIP) ||
		!strings.Contains(logs, "Address: "+ip) && !strings.Contains(logs, "Address 1: "+ip) ||
		!strings.Contains(logs, nodeIP) {
		t.Fatalf("lookup: phase %s; want named.default.svc.cluster.local -> %s and %s -> %s through %s; output:\n%s\n%s",
			s.Phase, ip, nodeName, nodeIP, clusterDNSIP, logs, describe("default", "lookup"))
	}
	for _, d := range decisionsWhere("kube-system", "coredns-") {
		if d.Action == "refuse" {
			t.Errorf("CoreDNS was refused once: %s", d.Message)
		}
	}
	t.Logf("CoreDNS answered named.default.svc.cluster.local -> %s and %s -> %s", ip, nodeName, nodeIP)
}

var localPath = &shared{what: "local-path-provisioner", ns: "kube-system", selector: "app=local-path-provisioner", podPrefix: "local-path-"}

// ensureLocalPath deploys local-path-provisioner the way K3s's
// manifests/local-storage.yaml does (the default StorageClass, K3s's
// storage directory, the helper pod on K3s's busybox) and waits until it
// is Ready, once per run.
func ensureLocalPath(t *testing.T) {
	t.Helper()
	k3sImage(t, "local-path-provisioner", localPathImage)
	k3sImage(t, "busybox", helperImage)
	localPath.ensure(t, localPathManifest())
}

// localPathManifest: the volume scripts are the bed's own: setup makes
// the volume's directory (open to the workload's uid) and closes its
// parent to other users of the node; teardown removes it.
func localPathManifest() string {
	return fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: local-path-provisioner-service-account, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: local-path-provisioner-role}
rules:
- apiGroups: [""]
  resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes, pods]
  verbs: ["*"]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: local-path-provisioner-bind}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: local-path-provisioner-role}
subjects: [{kind: ServiceAccount, name: local-path-provisioner-service-account, namespace: kube-system}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: local-path-provisioner, namespace: kube-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: local-path-provisioner}}
  template:
    metadata: {labels: {app: local-path-provisioner}}
    spec:
      priorityClassName: system-node-critical
      serviceAccountName: local-path-provisioner-service-account
      containers:
      - name: local-path-provisioner
        image: %[1]s
        imagePullPolicy: IfNotPresent
        command: [local-path-provisioner, start, --config, /etc/config/config.json]
        volumeMounts: [{name: config-volume, mountPath: /etc/config/}]
        env:
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - {name: CONFIG_MOUNT_PATH, value: /etc/config/}
      volumes:
      - name: config-volume
        configMap: {name: local-path-config}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
---
apiVersion: v1
kind: ConfigMap
metadata: {name: local-path-config, namespace: kube-system}
data:
  config.json: |-
    {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["%[3]s"]}]}
  setup: |-
    #!/bin/sh
    # -p DIR -s BYTES -m MODE, as the provisioner passes them
    set -eu
    while getopts "p:s:m:" flag; do
      case $flag in p) dir=$OPTARG ;; *) ;; esac
    done
    mkdir -p -m 0777 "$dir"
    chmod 0701 "$dir/.."
  teardown: |-
    #!/bin/sh
    set -eu
    while getopts "p:s:m:" flag; do
      case $flag in p) dir=$OPTARG ;; *) ;; esac
    done
    rm -rf "$dir"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata: {name: helper-pod}
    spec:
      containers:
      - name: helper-pod
        image: %[2]s
        imagePullPolicy: IfNotPresent
`, localPathImage, helperImage, k3sDataDir+"/storage")
}

// TestLocalPathVolumeBindsAndKeepsData: a PVC on K3s's default
// StorageClass binds through the provisioner's helper pod (which the
// guard lets write K3s's storage directory, and nothing else), a pod
// writes a token to it, and a second pod reads the token back.
func TestLocalPathVolumeBindsAndKeepsData(t *testing.T) {
	defer count(t)
	ensureLocalPath(t)
	token := fmt.Sprintf("kept-%s-%d", node.token, time.Now().UnixNano())
	t.Cleanup(func() { deleteObjects(t, "pod/pv-writer", "pod/pv-reader", "pvc/pv-data") })
	pod := func(name, script string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: %s
    imagePullPolicy: Never
    command: ["sh", "-c", %q]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: pv-data}}]
`, name, busyboxRef, script)
	}
	mustApply(t, pvcManifest("pv-data", "64Mi")+pod("pv-writer", "echo "+token+" > /data/token && cat /data/token"))
	if s := waitPod(t, "default", "pv-writer", 120*time.Second, "finished", succeeded); s.Phase != "Succeeded" {
		logs, _ := podLogs("default", "pv-writer")
		t.Fatalf("writer: phase %s, log %q; helper decisions: %+v\n%s", s.Phase, logs, decisionsWhere("kube-system", "helper-pod-"), describe("default", "pv-writer"))
	}
	phase, _ := node.kubectl("get", "pvc", "pv-data", "-o", "jsonpath={.status.phase}")
	volume, _ := node.kubectl("get", "pvc", "pv-data", "-o", "jsonpath={.spec.volumeName}")
	if phase != "Bound" || volume == "" {
		t.Fatalf("pvc pv-data: phase %q volume %q, want Bound", phase, volume)
	}
	mustApply(t, pod("pv-reader", "cat /data/token"))
	waitPod(t, "default", "pv-reader", 90*time.Second, "finished", succeeded)
	if logs, err := podLogs("default", "pv-reader"); err != nil || strings.TrimSpace(logs) != token {
		t.Fatalf("reader got %q (%v), want %q", logs, err, token)
	}
	created := 0
	for _, d := range decisionsWhere("kube-system", "helper-pod-create-") {
		if d.Action == "refuse" {
			t.Errorf("a helper pod was refused: %s", d.Message)
		}
		created++
	}
	if created == 0 {
		t.Errorf("no decision for the provisioner's helper pod: the guard did not see it")
	}
	t.Logf("PVC bound to %s through %d helper decisions; the token came back", volume, created)
}
