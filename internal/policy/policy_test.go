package policy

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestLoadMergesDropInsInLexicalOrder(t *testing.T) {
	p, err := Load("testdata/base.yaml", "testdata/policy.d")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"testdata/base.yaml", "testdata/policy.d/10-audit-mounts.yaml", "testdata/policy.d/20-node-exporter.yaml"}
	if strings.Join(p.Files, ",") != strings.Join(want, ",") {
		t.Fatalf("files = %v, want %v (README.txt must be skipped)", p.Files, want)
	}
	hm := p.Controls.HostMounts
	if hm.Mode.Value != Audit || hm.Mode.Source.String() != "testdata/policy.d/10-audit-mounts.yaml:5" {
		t.Errorf("hostMounts.mode = %v from %v, want audit from the drop-in line 5", hm.Mode.Value, hm.Mode.Source)
	}
	if hm.Action.Value != MountRefuse || hm.Action.Source.String() != "testdata/base.yaml:6" {
		t.Errorf("hostMounts.action = %v from %v, want refuse from base.yaml:6", hm.Action.Value, hm.Action.Source)
	}
	if got := p.Controls.Seccomp.Mode; got.Value != Enforce || got.Source.String() != "testdata/base.yaml:3" {
		t.Errorf("seccomp.mode = %v from %v, want enforce inherited from defaultMode at base.yaml:3", got.Value, got.Source)
	}
	if got := p.Controls.Sysctls.Allow; got.Source != BuiltIn || len(got.Value) != len(SafeSysctls) {
		t.Errorf("sysctls.allow = %v from %v, want the built-in safe set", got.Value, got.Source)
	}
}

func TestLoadReplacesExceptionByName(t *testing.T) {
	p, err := Load("testdata/base.yaml", "testdata/policy.d")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range p.Exceptions {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); got != "k3s-local-path,monitoring-host-network,monitoring-everything" {
		t.Fatalf("exceptions = %s", got)
	}
	e := p.Exceptions[1]
	if e.Source.String() != "testdata/policy.d/20-node-exporter.yaml:5" || e.Specificity != 2 {
		t.Errorf("replaced exception from %v specificity %d, want the drop-in's, specificity 2", e.Source, e.Specificity)
	}
	// The exception's settings lie over the node's: what it does not
	// set is inherited, including modes changed by other drop-ins.
	if e.Effective.HostMounts.Mode.Value != Audit || len(e.Effective.HostNamespaces.Deny.Value) != 1 {
		t.Errorf("effective settings not merged: %+v", e.Effective.HostNamespaces.Deny)
	}
}

func TestForPicksMostSpecificThenLatest(t *testing.T) {
	p, err := Load("testdata/base.yaml", "testdata/policy.d")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		wl   Workload
		want string
	}{
		{Workload{Namespace: "monitoring", Pod: "x", Labels: map[string]string{"app": "node-exporter"}}, "monitoring-host-network"},
		{Workload{Namespace: "monitoring", Pod: "x"}, "monitoring-everything"},
		{Workload{Namespace: "kube-system", Pod: "local-path-provisioner-7c9d-abc"}, "k3s-local-path"},
		{Workload{Namespace: "kube-system", Pod: "coredns-1"}, ""},
		{Workload{Namespace: "default", Pod: "x"}, ""},
	}
	for _, tc := range cases {
		_, e := p.For(tc.wl)
		got := ""
		if e != nil {
			got = e.Name
		}
		if got != tc.want {
			t.Errorf("For(%+v) = %q, want %q", tc.wl, got, tc.want)
		}
	}
}

func TestLoadEqualSpecificityLaterWins(t *testing.T) {
	p, err := Parse(Input{Name: "a.yaml", Data: []byte(header3 + `
exceptions:
  - name: first
    match: {namespaces: [ns]}
    controls: {sysctls: {mode: audit}}
  - name: second
    match: {pods: [p]}
    controls: {sysctls: {mode: off}}
`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, e := p.For(Workload{Namespace: "ns", Pod: "p"}); e == nil || e.Name != "second" {
		t.Fatalf("got %v, want second", e)
	}
}

const header3 = "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"

// TestParseErrors asserts the exact text, file, line and column of every
// class of policy mistake.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"unknown field", header3 + "controls:\n  hostMounts:\n    actoin: drop\n",
			[]string{`p.yaml:5:5: controls.hostMounts.actoin: unknown field; known fields here: action, allow, extraPaths, kubeletRoot, localStorage, mode, paths, readOnlyPaths`}},
		{"unknown control", header3 + "controls:\n  capabilitiez: {}\n",
			[]string{`p.yaml:4:3: controls.capabilitiez: unknown field; known fields here: capabilities, devices, hostMounts, hostNamespaces, hostPathVolumes, images, lsm, maskedPaths, mountTypes, noNewPrivileges, plugins, privileged, readOnlyRootFilesystem, runAsRoot, runtimeHandlers, seccomp, sysctls, userNamespaces, workingDirectory`}},
		{"unknown capability", header3 + "controls:\n  capabilities:\n    allow: [CAP_CHOWN, CAP_SYS_ADMN]\n",
			[]string{`p.yaml:5:24: controls.capabilities.allow[1]: unknown value "CAP_SYS_ADMN"; want one of: CAP_CHOWN,`}},
		{"bad enum", header3 + "defaultMode: enforcing\n",
			[]string{`p.yaml:3:14: defaultMode: unknown value "enforcing"; want one of: enforce, audit, off`}},
		{"bad namespace type", header3 + "controls:\n  hostNamespaces:\n    deny: [pid, mnt]\n",
			[]string{`p.yaml:5:17: controls.hostNamespaces.deny[1]: unknown value "mnt"; want one of: pid, ipc, network, uts`}},
		{"wrong kind", header3 + "controls:\n  sysctls:\n    allow: kernel.shm_rmid_forced\n",
			[]string{`p.yaml:5:12: controls.sysctls.allow: want a list, got the value "kernel.shm_rmid_forced"`}},
		{"duplicate key", header3 + "controls:\n  seccomp:\n    mode: off\n    mode: enforce\n",
			[]string{`p.yaml:6:5: controls.seccomp.mode: duplicate key (first set at line 5)`}},
		{"relative path", header3 + "controls:\n  hostMounts:\n    paths: [etc]\n",
			[]string{`p.yaml:5:13: controls.hostMounts.paths[0]: must be an absolute path, got "etc"`}},
		{"scratch not clean", header3 + "controls:\n  readOnlyRootFilesystem:\n    scratch: [/tmp, /var/../etc]\n",
			[]string{`p.yaml:5:21: controls.readOnlyRootFilesystem.scratch[1]: must be a clean path (no '..', '.', doubled or trailing '/'), got "/var/../etc"`}},
		{"scratch over the kernel's", header3 + "controls:\n  readOnlyRootFilesystem:\n    scratch: [/proc/sys]\n",
			[]string{`p.yaml:5:15: controls.readOnlyRootFilesystem.scratch[0]: cannot be /proc or below it`}},
		{"scratch over the root", header3 + "controls:\n  readOnlyRootFilesystem:\n    scratch: [/]\n",
			[]string{`scratch[0]: cannot be the root itself`}},
		{"scratch size", header3 + "controls:\n  readOnlyRootFilesystem:\n    scratchSize: 64MB\n",
			[]string{`p.yaml:5:18: controls.readOnlyRootFilesystem.scratchSize: must be a size like 64m, 1g or 10%, got "64MB"`}},
		{"scratch size percent", header3 + "controls:\n  readOnlyRootFilesystem:\n    scratchSize: 150%\n",
			[]string{`scratchSize: a percentage must be at most 100%, got "150%"`}},
		{"empty value", header3 + "controls:\n  seccomp:\n    mode:\n",
			[]string{`p.yaml:5:10: controls.seccomp.mode: empty value`}},
		{"missing header", "controls: {}\n",
			[]string{`p.yaml:1:1: apiVersion: missing; want apiVersion: nri-guard.io/v1alpha1`, `p.yaml:1:1: kind: missing; want kind: NodePolicy`}},
		{"future version", "apiVersion: nri-guard.io/v2\nkind: NodePolicy\n",
			[]string{`p.yaml:1:13: apiVersion: unsupported value "nri-guard.io/v2"; this nri-guard reads nri-guard.io/v1alpha1`}},
		{"alias", header3 + "x: &a enforce\ndefaultMode: *a\n",
			[]string{`p.yaml:3:1: x: unknown field`, `p.yaml:4:14: defaultMode: YAML anchors and aliases are not allowed`}},
		{"two documents", header3 + "---\n" + header3,
			[]string{`p.yaml:3: a policy file holds one YAML document; found another`}},
		{"empty file", "", []string{`p.yaml: empty policy file`}},
		{"syntax", header3 + "controls: [\n", []string{`p.yaml:3: did not find expected node content`}},
		{"exception without name or match", header3 + "exceptions:\n  - controls: {}\n",
			[]string{`p.yaml:4:5: exceptions[0].name: every exception needs a name`, `p.yaml:4:5: exceptions[0].match: an exception must select something`}},
		{"duplicate exception", header3 + "exceptions:\n  - name: a\n    match: {pods: [x]}\n  - name: a\n    match: {pods: [y]}\n",
			[]string{`p.yaml:6:11: exceptions[1].name: exception "a" is already defined at line 4`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(Input{Name: "p.yaml", Data: []byte(tc.doc)})
			if err == nil {
				t.Fatalf("no error; policy %+v", p)
			}
			if p != nil {
				t.Fatal("a policy with errors must not half-load")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestParseReportsEveryErrorAcrossFiles(t *testing.T) {
	_, err := Parse(
		Input{Name: "base.yaml", Data: []byte(header3 + "defaultMode: loud\n")},
		Input{Name: "drop.yaml", Data: []byte(header3 + "controls:\n  images:\n    deny: [\"\"]\n")},
	)
	errs, ok := err.(Errors)
	if !ok || len(errs) != 2 || errs[0].File != "base.yaml" || errs[1].File != "drop.yaml" {
		t.Fatalf("want one error per file, got %#v", err)
	}
}

func TestLoadMissingDropInDirIsAnError(t *testing.T) {
	if _, err := Load("testdata/base.yaml", "testdata/no-such-dir"); err == nil {
		t.Fatal("an explicitly named drop-in directory that does not exist must be an error")
	}
}

func TestShowNamesEverySource(t *testing.T) {
	p, err := Load("testdata/base.yaml", "testdata/policy.d")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p.Show(&b)
	out := b.String()
	for _, want := range []string{
		"mode: audit", "# testdata/policy.d/10-audit-mounts.yaml:5",
		"extraPaths: [/srv/secrets]", "# testdata/base.yaml:7",
		"allow: [kernel.shm_rmid_forced,", "# built-in default",
		"name: monitoring-host-network", "# testdata/policy.d/20-node-exporter.yaml:5, specificity 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("policy show lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	p.Explain(&b, Workload{Namespace: "monitoring", Pod: "ne", Labels: map[string]string{"app": "node-exporter"}})
	if !strings.Contains(b.String(), `exception "monitoring-host-network" (testdata/policy.d/20-node-exporter.yaml:5, specificity 2): APPLIES`) ||
		!strings.Contains(b.String(), `exception "monitoring-everything"`) {
		t.Errorf("explain output:\n%s", b.String())
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"docker.io/library/*", "docker.io/library/busybox:1.36", true},
		{"*/evil/*", "ghcr.io/evil/miner:latest", true},
		{"*/evil/*", "ghcr.io/good/evil", false},
		{"coredns-?", "coredns-1", true},
		{"coredns-?", "coredns-12", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tc := range cases {
		if got := Glob(tc.pattern).Match(tc.s); got != tc.want {
			t.Errorf("Glob(%q).Match(%q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestCleanHostPath(t *testing.T) {
	cases := map[string]string{
		"/run/":                 "/run",
		"/var/run/k3s":          "/run/k3s",
		"/var/run":              "/run",
		"/var/running":          "/var/running",
		"/tmp/../etc/./":        "/etc",
		"//var///lib/rancher/":  "/var/lib/rancher",
		"relative/../../../etc": "/etc",
		"/var/lib/../run/":      "/run",
	}
	for in, want := range cases {
		if got := CleanHostPath(in); got != want {
			t.Errorf("CleanHostPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEmptyPolicyGetsDefaults(t *testing.T) {
	p, err := Parse(Input{Name: "p.yaml", Data: []byte(header3)})
	if err != nil {
		t.Fatal(err)
	}
	for key, m := range p.Controls.ModesByKey() {
		if key == "runAsRoot" || key == "userNamespaces" || key == "hostPathVolumes" {
			if m.Value != Off {
				t.Errorf("%s must be off unless a policy turns it on", key)
			}
			continue
		}
		if m.Value != Enforce {
			t.Errorf("%s mode %s, want enforce by default", key, m.Value)
		}
	}
	if _, err := os.Stat("testdata/base.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestUserNamespaceOptOutsNameEveryHole(t *testing.T) {
	doc := `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
controls:
  userNamespaces: {mode: enforce, want: enable}
exceptions:
  - name: gpu-jobs
    match: {namespaces: [ml], labels: {gpu: "true"}}
    controls:
      userNamespaces: {mode: off}
  - name: unrelated
    match: {pods: [web-*]}
    controls:
      hostMounts: {mode: audit}
`
	p, err := Parse(Input{Name: "node.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	got := p.UserNamespaceOptOuts()
	want := `exception "gpu-jobs" (node.yaml:6) leaves pods matching namespaces [ml] and labels map[gpu:true] in the node's user namespace (userNamespaces.mode: off)`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %q, want [%q]", got, want)
	}
	p, _ = Parse(Input{Name: "node.yaml", Data: []byte(strings.Replace(doc, "mode: enforce, want: enable", "mode: off", 1))})
	if got := p.UserNamespaceOptOuts(); len(got) != 0 {
		t.Fatalf("with the control off there is nothing to opt out of: %q", got)
	}
}

// The digest is taken from the bytes parsed, presets included: the
// status compares it with the files on disk to tell whether they are
// the policy in force.
func TestDigestCoversFilesAndPresets(t *testing.T) {
	base := "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"
	parse := func(doc string) string {
		p, err := Parse(Input{Name: "node.yaml", Data: []byte(doc)})
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest
	}
	plain, again := parse(base), parse(base)
	withPreset := parse(base + "presets: [k3s-system]\n")
	edited := parse(base + "defaultMode: audit\n")
	if plain == "" || plain != again {
		t.Fatalf("the same bytes must give the same digest: %q %q", plain, again)
	}
	if withPreset == plain || edited == plain || withPreset == edited {
		t.Fatal("a preset or an edit must change the digest")
	}
}
