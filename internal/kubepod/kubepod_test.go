package kubepod

import (
	"slices"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

// translate decodes a manifest and returns its containers by name
// (the sandbox is "POD").
func translate(t *testing.T, manifest string, opt Options) map[string]*Container {
	t.Helper()
	pods, err := Decode("pod.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Container{}
	for i := range pods {
		for _, c := range Translate(&pods[i], opt) {
			out[c.Name] = c
		}
	}
	return out
}

const podHead = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n"

func TestCapabilities(t *testing.T) {
	cases := []struct {
		name, sc string
		want     []string
	}{
		{"runtime default", "{}", []string{"CAP_CHOWN", "CAP_NET_RAW", "CAP_AUDIT_WRITE"}},
		{"drop all add one, any case", "{capabilities: {drop: [all], add: [net_bind_service]}}", []string{"CAP_NET_BIND_SERVICE"}},
		{"drop all", "{capabilities: {drop: [ALL]}}", nil},
		{"add to the default", "{capabilities: {add: [NET_ADMIN]}}", []string{"CAP_NET_RAW", "CAP_NET_ADMIN"}},
		{"privileged gets all", "{privileged: true}", []string{"CAP_SYS_ADMIN", "CAP_BPF"}},
		{"a CAP_ prefix is doubled, as containerd does", "{capabilities: {drop: [ALL], add: [CAP_CHOWN]}}", []string{"CAP_CAP_CHOWN"}},
		{"add ALL gives all", "{capabilities: {add: [all], drop: [NET_RAW]}}", []string{"CAP_SYS_ADMIN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := translate(t, podHead+"  containers: [{name: c, image: x, securityContext: "+tc.sc+"}]\n", Options{})["c"]
			got := c.Spec.Process.Capabilities.Effective
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s missing from %v", w, got)
				}
			}
			if tc.want == nil && len(got) != 0 {
				t.Errorf("want no capabilities, got %v", got)
			}
			if c.Spec.Process.Capabilities.Inheritable != nil {
				t.Error("containerd never fills the inheritable set")
			}
		})
	}
}

func TestSecurityFields(t *testing.T) {
	m := podHead + `  securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: busybox
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, procMount: Unmasked,
      seccompProfile: {type: Localhost, localhostProfile: p.json}, appArmorProfile: {type: Unconfined},
      seLinuxOptions: {type: spc_t}}
  - name: d
    image: busybox
`
	cs := translate(t, m, Options{})
	c, d := cs["c"], cs["d"]
	p := c.Spec.Process
	if !p.NoNewPrivileges || !c.Spec.Root.Readonly || p.User.UID != 1000 || len(c.Spec.Linux.MaskedPaths) != 0 {
		t.Errorf("c: nnp %v ro %v uid %d masked %v", p.NoNewPrivileges, c.Spec.Root.Readonly, p.User.UID, c.Spec.Linux.MaskedPaths)
	}
	if v := c.View(); v.Seccomp.State != view.SeccompLocalhost || v.Seccomp.LocalhostRef != "p.json" {
		t.Errorf("c seccomp %v %q, want Localhost p.json", v.Seccomp.State, v.Seccomp.LocalhostRef)
	}
	if p.ApparmorProfile != "unconfined" || p.SelinuxLabel != "system_u:system_r:spc_t:s0:c1,c2" {
		t.Errorf("c lsm %q %q", p.ApparmorProfile, p.SelinuxLabel)
	}
	if d.View().Seccomp.State != view.SeccompRuntimeDefault || d.Spec.Process.NoNewPrivileges || len(d.Spec.Linux.MaskedPaths) == 0 {
		t.Errorf("d: the pod's seccomp, no nnp and the default masks expected")
	}
	if img := d.View().Image; img != "docker.io/library/busybox:latest" {
		t.Errorf("image %q", img)
	}
}

func TestUserAssumptions(t *testing.T) {
	cases := []struct {
		name, pod string
		opt       Options
		uid       uint32
		assumed   string
		kubelet   bool
	}{
		{"image root assumed", "", Options{}, 0, "assumed to be root", false},
		{"runAsNonRoot: non-root assumed", "  securityContext: {runAsNonRoot: true}\n", Options{}, 65534, "non-root", false},
		{"image uid given", "", Options{ImageUID: ptr(uint32(7))}, 7, "--image-uid", false},
		{"runAsNonRoot with uid 0: kubelet refuses", "  securityContext: {runAsNonRoot: true, runAsUser: 0}\n", Options{}, 0, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := translate(t, podHead+tc.pod+"  containers: [{name: c, image: x}]\n", tc.opt)["c"]
			if c.Spec.Process.User.UID != tc.uid || (c.KubeletRefuses != "") != tc.kubelet {
				t.Errorf("uid %d kubelet %q", c.Spec.Process.User.UID, c.KubeletRefuses)
			}
			if tc.assumed != "" && !strings.Contains(strings.Join(c.Assumed, "\n"), tc.assumed) {
				t.Errorf("assumptions %v lack %q", c.Assumed, tc.assumed)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestNamespacesMountsSysctls(t *testing.T) {
	m := podHead + `  hostNetwork: true
  hostIPC: true
  hostUsers: false
  securityContext: {sysctls: [{name: net.ipv4.ip_forward, value: "1"}]}
  volumes: [{name: data, hostPath: {path: /var/lib/rancher/k3s/storage}}, {name: tmp, emptyDir: {}}, {name: unused, hostPath: {path: /etc}}]
  containers:
  - {name: c, image: x, volumeMounts: [{name: data, mountPath: /data, subPath: pvc-1}, {name: tmp, mountPath: /tmp, readOnly: true}]}
`
	cs := translate(t, m, Options{})
	c, sb := cs["c"].View(), cs["POD"].View()
	if !c.InHostNamespace("network") || !c.InHostNamespace("ipc") || c.InHostNamespace("pid") || c.InHostNamespace("user") {
		t.Errorf("namespaces %+v", c.Namespaces)
	}
	var srcs []string
	for _, mnt := range c.Mounts {
		if mnt.IsBind() {
			srcs = append(srcs, mnt.Source)
		}
	}
	for _, want := range []string{"/var/lib/rancher/k3s/storage/pvc-1", "/dev/shm", "/var/lib/kubelet/pods/offline-pod-uid/volumes/kubernetes.io~empty-dir/tmp"} {
		if !slices.Contains(srcs, want) {
			t.Errorf("bind source %s missing from %v", want, srcs)
		}
	}
	if slices.Contains(srcs, "/etc") {
		t.Error("a volume no container mounts is no mount")
	}
	if !sb.Sandbox || sb.Sysctls["net.ipv4.ip_forward"] != "1" || len(c.Sysctls) != 0 {
		t.Errorf("pod sysctls belong to the sandbox only: sandbox %v container %v", sb.Sysctls, c.Sysctls)
	}
}

func TestWorkloadKinds(t *testing.T) {
	m := `apiVersion: v1
kind: Service
metadata: {name: s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      initContainers: [{name: i, image: x}]
      containers: [{name: c, image: x}]
      ephemeralContainers: [{name: e, image: x}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: b, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: win}
spec:
  os: {name: windows}
  containers: [{name: w, image: x}]
`
	pods, err := Decode("all.yaml", []byte(m))
	if err != nil || len(pods) != 3 {
		t.Fatalf("pods %d, err %v", len(pods), err)
	}
	dep := Translate(&pods[0], Options{})
	if len(dep) != 4 || dep[1].Kind != KindInit || dep[3].Kind != KindEphemeral {
		t.Fatalf("deployment: %d containers", len(dep))
	}
	v := dep[2].View()
	if v.Pod.Namespace != "kube-system" || !strings.HasPrefix(v.Pod.Name, "coredns-") || v.Pod.Labels["k8s-app"] != "kube-dns" {
		t.Errorf("pod identity %+v", v.Pod)
	}
	if pods[0].Source != "all.yaml:5" || pods[1].Meta.Namespace != "default" {
		t.Errorf("source %s namespace %s", pods[0].Source, pods[1].Meta.Namespace)
	}
	if len(Translate(&pods[2], Options{})) != 0 {
		t.Error("a Windows pod never reaches a Linux node")
	}
}

func TestDecodeList(t *testing.T) {
	m := `{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c"}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}},
 {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":{"hostPID":true,"containers":[{"name":"c"}]}}]}`
	pods, err := Decode("list.json", []byte(m))
	if err != nil || len(pods) != 2 || pods[1].Meta.Name != "b" || !pods[1].Spec.HostPID || pods[1].Source != "list.json:4" {
		t.Fatalf("pods %+v err %v", pods, err)
	}
	_, err = Decode("list.yaml", []byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: {hostIPC: yes-please}\n"))
	if err == nil || !strings.Contains(err.Error(), "list.yaml:6:") {
		t.Errorf("an item's error needs its line: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"wrong type", podHead + "  containers:\n  - name: c\n    securityContext:\n      runAsUser: abc\n", "pod.yaml:8: cannot unmarshal !!str `abc` into int64"},
		{"syntax", "apiVersion: v1\nkind: Pod\nspec: [\n", "pod.yaml:3: did not find expected node content"},
		{"not an object", "- a\n- b\n", "pod.yaml:1: a manifest document must be a mapping"},
		{"no kind", "metadata: {name: x}\n", "pod.yaml:1: not a Kubernetes object"},
		{"no workload", "apiVersion: v1\nkind: Service\n", "pod.yaml: no Pod or workload"},
		{"no template", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n", "pod.yaml:1: Deployment without a pod template"},
		{"second document broken", podHead + "  containers: []\n---\napiVersion: v1\nkind: Pod\nspec: {hostPID: maybe}\n", "pod.yaml:9: cannot unmarshal !!str `maybe` into bool"},
	}
	for _, tc := range cases {
		_, err := Decode("pod.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
