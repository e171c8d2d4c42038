package policy

import (
	"strings"
	"testing"
)

// The genuine K3s components as NRI and the runtime wrapper see them
// (process.args with the image's entrypoint first), and look-alikes: a
// pod of the same name in kube-system with the genuine image and its own
// command, or the genuine command under another registry's image.
var (
	genuineCoreDNS = Workload{Namespace: "kube-system", Pod: "coredns-5d8f7c9b6d-x2x7q", Container: "coredns",
		Image: "docker.io/rancher/mirrored-coredns-coredns:1.12.3", Args: []string{"/coredns", "-conf", "/etc/coredns/Corefile"}}
	genuineSvclb = Workload{Namespace: "kube-system", Pod: "svclb-traefik-1a2b3c4d-xk2p9", Container: "lb-tcp-80",
		Image: "docker.io/rancher/klipper-lb:v0.4.13", Args: []string{"entry"}}
	genuineProvisioner = Workload{Namespace: "kube-system", Pod: "local-path-provisioner-6c86858495-abcde", Container: "local-path-provisioner",
		Image: "docker.io/rancher/local-path-provisioner:v0.0.31", Args: []string{"local-path-provisioner", "start", "--config", "/etc/config/config.json"}}
	genuineHelper = Workload{Namespace: "kube-system", Pod: "helper-pod-create-pvc-0b1c2d3e", Container: "helper-pod",
		Image: "docker.io/rancher/mirrored-library-busybox:1.36.1",
		Args:  []string{"/bin/sh", "/script/setup", "-p", "/var/lib/rancher/k3s/storage/pvc-0b1c2d3e_default_data", "-s", "1073741824", "-m", "Filesystem"}}
	genuineTeardown = Workload{Namespace: "kube-system", Pod: "helper-pod-delete-pvc-0b1c2d3e", Container: "helper-pod",
		Image: "docker.io/rancher/mirrored-library-busybox:1.36.1",
		Args:  []string{"/bin/sh", "/script/teardown", "-p", "/var/lib/rancher/k3s/storage/pvc-0b1c2d3e_default_data", "-s", "1073741824", "-m", "Filesystem"}}
)

func with(w Workload, edit func(*Workload)) Workload {
	edit(&w)
	return w
}

func TestK3sPresetAgainstLookalikes(t *testing.T) {
	p, err := ParseWith([]PresetName{"restricted", "k3s-system"})
	if err != nil {
		t.Fatal(err)
	}
	mirror, err := ParseWith([]PresetName{"restricted", "k3s-system"}, Input{Name: "node.yaml", Data: []byte(header3 +
		"controls:\n  images:\n    systemRegistries: [registry.example.com:5000]\n")})
	if err != nil {
		t.Fatal(err)
	}
	sleep := []string{"sleep", "3600"}
	cases := []struct {
		name string
		pol  *Policy
		w    Workload
		want string // exception name, "" for none
	}{
		{"coredns", p, genuineCoreDNS, "k3s-coredns"},
		{"coredns under the system default registry", mirror, with(genuineCoreDNS, func(w *Workload) { w.Image = "registry.example.com:5000/rancher/mirrored-coredns-coredns:1.12.3" }), "k3s-coredns"},
		{"coredns by digest", p, with(genuineCoreDNS, func(w *Workload) { w.Image = "docker.io/rancher/mirrored-coredns-coredns:1.12.3@" + digestA }), "k3s-coredns"},
		{"svclb", p, genuineSvclb, "k3s-svclb"},
		{"local-path-provisioner", p, genuineProvisioner, "k3s-local-path-provisioner"},
		{"helper setup", p, genuineHelper, "k3s-local-path-helper"},
		{"helper teardown", p, genuineTeardown, "k3s-local-path-helper"},
		// local-path-provisioner v0.0.31 on (K3s 1.37 ships v0.0.37) adds
		// the action; seen on the real kubelet of e2e/cluster.
		{"helper setup with its action", p, with(genuineHelper, func(w *Workload) { w.Args = append(w.Args, "-a", "create") }), "k3s-local-path-helper"},
		{"helper teardown with its action", p, with(genuineTeardown, func(w *Workload) { w.Args = append(w.Args, "-a", "delete") }), "k3s-local-path-helper"},
		{"helper setup with a foreign action", p, with(genuineHelper, func(w *Workload) { w.Args = append(w.Args, "-a", "delete") }), ""},
		{"helper setup with more after its action", p, with(genuineHelper, func(w *Workload) { w.Args = append(w.Args, "-a", "create", "-x") }), ""},

		{"coredns from another registry", p, with(genuineCoreDNS, func(w *Workload) { w.Image = "evil.example/x/rancher/mirrored-coredns-coredns:1" }), ""},
		{"coredns from another registry, same path", p, with(genuineCoreDNS, func(w *Workload) { w.Image = "evil.example/rancher/mirrored-coredns-coredns:1" }), ""},
		{"coredns from docker.io when the node names its own registry", mirror, genuineCoreDNS, ""},
		{"coredns image, own command", p, with(genuineCoreDNS, func(w *Workload) { w.Args = sleep }), ""},
		{"coredns image, genuine command plus a flag", p, with(genuineCoreDNS, func(w *Workload) { w.Args = append(w.Args, "-dns.port", "53") }), ""},
		{"coredns, command unknown", p, with(genuineCoreDNS, func(w *Workload) { w.Args = nil }), ""},
		{"svclb image, own command", p, with(genuineSvclb, func(w *Workload) { w.Args = []string{"/bin/sh", "-c", "entry"} }), "k3s-svclb-sysctls"},
		{"svclb, another registry", p, with(genuineSvclb, func(w *Workload) { w.Image = "evil.example/x/rancher/klipper-lb:v0.4.13" }), "k3s-svclb-sysctls"},
		{"provisioner image, own command", p, with(genuineProvisioner, func(w *Workload) { w.Args = sleep }), ""},
		{"helper image, own command", p, with(genuineHelper, func(w *Workload) { w.Args = sleep }), ""},
		{"helper image, a shell", p, with(genuineHelper, func(w *Workload) { w.Args = []string{"/bin/sh", "-c", "cat /var/lib/rancher/k3s/storage/*/*"} }), ""},
		{"helper, script outside the storage path", p, with(genuineHelper, func(w *Workload) {
			w.Args = append([]string(nil), w.Args...)
			w.Args[3] = "/var/lib/rancher/k3s/server"
		}), ""},
		{"helper, from another registry", p, with(genuineHelper, func(w *Workload) { w.Image = "evil.example/x/rancher/mirrored-library-busybox:1.36.1" }), ""},
		{"helper, another namespace", p, with(genuineHelper, func(w *Workload) { w.Namespace = "default" }), ""},
	}
	for _, tc := range cases {
		_, exc := tc.pol.For(tc.w)
		got := ""
		if exc != nil {
			got = exc.Name
		}
		if got != tc.want {
			t.Errorf("%s: exception %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The one exception that selects no image is for the pod sandbox's
// sysctls; a look-alike can claim it, so it must grant nothing else.
func TestSvclbSysctlsGrantsOnlySysctls(t *testing.T) {
	p, err := ParseWith([]PresetName{"restricted", "k3s-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Exceptions {
		if e.Name != "k3s-svclb-sysctls" {
			continue
		}
		if len(e.Match.Images) != 0 || len(e.Match.Args) != 0 {
			t.Errorf("selectors changed: %s", e.Match.describe())
		}
		set := e.Exception.Controls.ModesByKey()
		for key, m := range set {
			if m.Set {
				t.Errorf("the exception sets %s.mode", key)
			}
		}
		if g := e.grants(); g != "" {
			t.Errorf("the exception grants %s", g)
		}
		for _, s := range e.Effective.Sysctls.Allow.Value {
			if !strings.HasPrefix(string(s), "net.") && s != "kernel.shm_rmid_forced" {
				t.Errorf("sysctl %s is not per network namespace", s)
			}
		}
		return
	}
	t.Fatal("no k3s-svclb-sysctls exception")
}

func TestArgsSelector(t *testing.T) {
	m := Match{Args: [][]Glob{{"/bin/sh", "/script/setup", "-p", "/var/lib/rancher/k3s/storage/*"}, {"entry"}}}
	cases := []struct {
		args      []string
		fromImage bool
		want      bool
	}{
		{[]string{"/bin/sh", "/script/setup", "-p", "/var/lib/rancher/k3s/storage/pvc-1"}, false, true},
		{[]string{"entry"}, false, true},
		{[]string{"entry", "x"}, false, false},
		{[]string{"/bin/sh", "/script/setup", "-p"}, false, false},
		{[]string{"/bin/sh", "/script/setupx", "-p", "/var/lib/rancher/k3s/storage/pvc-1"}, false, false},
		{nil, false, false},
		{[]string{}, false, false},
		// The offline check: the manifest's args follow an unknown entrypoint.
		{[]string{"/script/setup", "-p", "/var/lib/rancher/k3s/storage/pvc-1"}, true, true},
		{[]string{"-p", "/var/lib/rancher/k3s/storage/pvc-1"}, true, true},
		{[]string{"-p", "/etc"}, true, false},
		{nil, true, true},
	}
	for _, tc := range cases {
		if got := m.MatchesArgs(tc.args, tc.fromImage); got != tc.want {
			t.Errorf("args %q (from image %v): %v, want %v", tc.args, tc.fromImage, got, tc.want)
		}
	}
	if (&Match{}).MatchesArgs(nil, false) != true {
		t.Error("no args selector must not constrain")
	}
}

func TestSelectorWarnings(t *testing.T) {
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + `controls:
  images:
    deny: ["*evil*", "docker.io/bad/*", "bad/*"]
exceptions:
  - name: old-style
    match: {namespaces: [kube-system], images: ["*rancher/klipper-lb:*"]}
    controls: {capabilities: {allow: [CAP_NET_ADMIN]}}
  - name: any-registry
    match: {namespaces: [x], images: ["*/x/y"], args: [[a]]}
    controls: {runAsRoot: {mode: "off"}}
  - name: pinned
    match: {namespaces: [x], images: ["x/y@` + digestA + `"]}
    controls: {runAsRoot: {mode: "off"}}
  - name: harmless
    match: {pods: ["svclb-*"]}
    controls: {sysctls: {allow: [net.ipv4.ip_forward]}}
  - name: labels
    match: {labels: {app: x}}
    controls: {runAsRoot: {mode: "off"}}
  - name: ns-glob
    match: {namespaces: ["kube-*"], args: [[x]]}
    controls: {hostMounts: {allow: [/data]}}
  - name: unconfined
    match: {namespaces: [x], containers: [debug]}
    controls: {seccomp: {mode: "off"}, noNewPrivileges: {mode: audit}, devices: {allow: ["/dev/fuse"]}}
`)})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.SelectorWarnings(), "\n")
	for _, want := range []string{
		`exception "old-style" (p.yaml:7) match.images: "*rancher/klipper-lb:*" names no registry and starts with "*"`,
		`exception "old-style" (p.yaml:7) grants capabilities but pins neither match.args nor an image digest`,
		`exception "any-registry" (p.yaml:10) match.images: "*/x/y" matches every registry`,
		`images.deny (p.yaml:5): "*evil*" names no registry and starts with "*"`,
		`exception "labels" (p.yaml:19) grants root (runAsRoot.mode: off) in every namespace`,
		`exception "labels" (p.yaml:19) grants root (runAsRoot.mode: off) by pod labels, which the pod's author sets`,
		`exception "ns-glob" (p.yaml:22) grants host paths to namespaces matching "kube-*"`,
		`exception "unconfined" (p.yaml:25) grants seccomp, new privileges, devices but pins neither match.args nor an image digest`,
		`images.deny (p.yaml:5): "bad/*" names no registry, so it denies only under the system registries [docker.io]; write "*/bad/*"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	for _, not := range []string{`"pinned"`, `"harmless"`, `"docker.io/bad/*"`, `"any-registry" (p.yaml:10) grants`} {
		if strings.Contains(got, not) {
			t.Errorf("warnings name %s:\n%s", not, got)
		}
	}
	presets, err := ParseWith([]PresetName{"restricted", "k3s-system"})
	if err != nil {
		t.Fatal(err)
	}
	if w := presets.SelectorWarnings(); len(w) != 0 {
		t.Errorf("the presets draw warnings: %v", w)
	}
}

func TestSelectorErrors(t *testing.T) {
	cases := map[string]string{
		"exceptions:\n  - name: a\n    match: {images: [Rancher/klipper-lb]}\n":                                                            "p.yaml:5",
		"exceptions:\n  - name: a\n    match: {namespaces: [x]}\n    controls:\n      images:\n        systemRegistries: [evil.example]\n": "p.yaml:8",
		"controls:\n  images:\n    systemRegistries: [\"a/b\"]\n":                                                                          "p.yaml:5",
		"controls:\n  images:\n    allow: [\"rancher//x\"]\n":                                                                              "p.yaml:5",
	}
	for doc, want := range cases {
		_, err := Parse(Input{Name: "p.yaml", Data: []byte(header3 + doc)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error at %s", doc, err, want)
		}
	}
}
