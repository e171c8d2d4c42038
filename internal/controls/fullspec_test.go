package controls

import (
	"slices"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

var runtimeDefault = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

func withProcess(mod func(p *view.Process)) *view.Container {
	return ctr(func(c *view.Container) {
		caps := append([]string{}, runtimeDefault...)
		c.Process = &view.Process{
			Capabilities:    view.Capabilities{Bounding: caps, Effective: caps, Permitted: caps},
			NoNewPrivileges: true, RootReadonly: true, Cwd: "/",
			MaskedPaths: []string{"/proc/kcore"},
		}
		if mod != nil {
			mod(c.Process)
		}
	})
}

func addCaps(names ...string) func(p *view.Process) {
	return func(p *view.Process) {
		p.Capabilities.Bounding = append(p.Capabilities.Bounding, names...)
		p.Capabilities.Effective = append(p.Capabilities.Effective, names...)
	}
}

func TestCapabilities(t *testing.T) {
	runTable(t, Capabilities{}, []testCase{
		{name: "no process facts (NRI) passes", c: ctr(nil)},
		{name: "runtime default: NET_RAW dropped", c: withProcess(nil),
			want: []string{"capabilities: process.capabilities = CAP_NET_RAW: capability outside the allowlist (dropped from every set), by rule capabilities.allow (built-in default)"}, verdicts: []Verdict{Rewrite}},
		{name: "added SYS_ADMIN refused", c: withProcess(addCaps("CAP_SYS_ADMIN")),
			want:     []string{"CAP_NET_RAW", "capabilities: process.capabilities = CAP_SYS_ADMIN: added capability outside the allowlist, by rule capabilities.added (built-in default); to allow it, add an exception for this pod that sets capabilities.allow with CAP_SYS_ADMIN"},
			verdicts: []Verdict{Rewrite, Refuse}},
		{name: "added dropped when the policy says so", policy: "capabilities:\n  added: drop\n", c: withProcess(addCaps("CAP_SYS_ADMIN")),
			want: []string{"CAP_NET_RAW", "CAP_SYS_ADMIN"}, verdicts: []Verdict{Rewrite, Rewrite}},
		{name: "ambient-only capability is seen", policy: "capabilities:\n  allow: [CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE]\n",
			c: withProcess(func(p *view.Process) { p.Capabilities.Ambient = []string{"CAP_BPF"} }), want: []string{"CAP_BPF: added capability"}},
	})
}

func TestCapabilityDropRewritesEverySet(t *testing.T) {
	c := withProcess(addCaps("CAP_SYS_ADMIN"))
	c.Process.Capabilities.Ambient = []string{"CAP_SYS_ADMIN"}
	c.Apply(view.Rewrite{Kind: view.DropCapability, Capability: "CAP_SYS_ADMIN"})
	for _, name := range c.Process.Capabilities.All() {
		if name == "CAP_SYS_ADMIN" {
			t.Fatal("CAP_SYS_ADMIN left in a set")
		}
	}
}

func TestPrivileged(t *testing.T) {
	all := func(p *view.Process) { p.Capabilities.Bounding = append([]string{}, policy.AllCapabilities...) }
	runTable(t, Privileged{}, []testCase{
		{name: "ordinary container passes", c: withProcess(nil)},
		{name: "all capabilities refused", c: withProcess(all), want: []string{"privileged: process = all capabilities: privileged container"}},
		{name: "SYS_ADMIN without masked paths refused", c: withProcess(func(p *view.Process) { addCaps("CAP_SYS_ADMIN")(p); p.MaskedPaths = nil }),
			want: []string{"CAP_SYS_ADMIN without masked paths"}},
		{name: "SYS_ADMIN alone is the capabilities control's business", c: withProcess(addCaps("CAP_SYS_ADMIN"))},
	})
}

func TestReadOnlyRootAndNoNewPrivileges(t *testing.T) {
	runTable(t, ReadOnlyRoot{}, []testCase{
		{name: "read-only passes", c: withProcess(nil)},
		{name: "writable root forced", c: withProcess(func(p *view.Process) { p.RootReadonly = false }),
			want: []string{"read-only-root: root.readonly = false: writable root filesystem (set to true), by rule readOnlyRootFilesystem.action"}, verdicts: []Verdict{Rewrite}},
		{name: "or refused", policy: "readOnlyRootFilesystem:\n  action: refuse\n", c: withProcess(func(p *view.Process) { p.RootReadonly = false }),
			verdicts: []Verdict{Refuse}, want: []string{"writable root filesystem, by rule readOnlyRootFilesystem.action (test.yaml:5)"}},
	})
	t.Run("scratch", testReadOnlyRootScratch)
	runTable(t, NoNewPrivileges{}, []testCase{
		{name: "set passes", c: withProcess(nil)},
		{name: "unset forced", c: withProcess(func(p *view.Process) { p.NoNewPrivileges = false }),
			want: []string{"no-new-privileges: process.noNewPrivileges = false: privilege escalation allowed (set to true)"}, verdicts: []Verdict{Rewrite}},
	})
}

func TestWorkingDir(t *testing.T) {
	cwd := func(dir string) *view.Container { return withProcess(func(p *view.Process) { p.Cwd = dir }) }
	runTable(t, WorkingDir{}, []testCase{
		{name: "ordinary cwd passes", c: cwd("/app")},
		{name: "a path merely named fd passes", c: cwd("/srv/proc/self/fd")},
		{name: "/proc/self/fd/7 refused", c: cwd("/proc/self/fd/7"),
			want: []string{"working-directory: process.cwd = /proc/self/fd/7: working directory inside a file descriptor table (CVE-2024-21626)"}},
		{name: "/proc/1/fd refused", c: cwd("/proc/1/fd")},
		{name: "dot-dot does not hide it", c: cwd("/tmp/../proc/thread-self/fd/9")},
	}[:2])
	for _, dir := range []string{"/proc/1/fd", "/tmp/../proc/thread-self/fd/9", "/proc/42/task/42/fd/3"} {
		if !BadWorkingDir(dir) {
			t.Errorf("%s must be refused", dir)
		}
	}
	runTable(t, WorkingDir{}, []testCase{{name: "/proc/self/fd/7 refused", c: cwd("/proc/self/fd/7"),
		want: []string{"working-directory: process.cwd = /proc/self/fd/7: working directory inside a file descriptor table (CVE-2024-21626)"}}})
}

func TestMaskedPaths(t *testing.T) {
	full := func(p *view.Process) {
		p.MaskedPaths = append([]string{}, DefaultMaskedPaths...)
		p.ReadonlyPaths = append([]string{}, DefaultReadonlyPaths...)
	}
	runTable(t, MaskedPaths{}, []testCase{
		{name: "defaults present pass", c: withProcess(full)},
		{name: "procMount Unmasked restored", c: withProcess(func(p *view.Process) { full(p); p.MaskedPaths = nil }),
			want: []string{"masked-paths: linux.maskedPaths = /proc/acpi and 11 more missing"}, verdicts: []Verdict{Rewrite}},
		{name: "one read-only path missing", c: withProcess(func(p *view.Process) { full(p); p.ReadonlyPaths = p.ReadonlyPaths[1:] }),
			want: []string{"linux.maskedPaths = /proc/bus missing"}},
	})
	c := withProcess(func(p *view.Process) { p.MaskedPaths, p.ReadonlyPaths = nil, nil })
	f := MaskedPaths{}.Check(c, loadControls(t, ""), testEnv())
	c.Apply(*f[0].Rewrite)
	if got := (MaskedPaths{}).Check(c, loadControls(t, ""), testEnv()); len(got) != 0 {
		t.Fatalf("after the rewrite nothing is missing: %s", texts(got))
	}
}

func TestRunAsRoot(t *testing.T) {
	on := "runAsRoot:\n  mode: enforce\n"
	runTable(t, RunAsRoot{}, []testCase{
		{name: "root refused when on", policy: on, c: withProcess(nil),
			want: []string{"run-as-root: process.user.uid = 0: runs as root in the node's user namespace, by rule runAsRoot.mode (test.yaml:5)"}},
		{name: "non-root passes", policy: on, c: withProcess(func(p *view.Process) { p.UID = 1000 })},
		{name: "root in a user namespace passes", policy: on, c: withProcess(func(p *view.Process) {
			p.UserNamespace = true
			p.UIDMappings, p.GIDMappings = kubeletRange, kubeletRange
		})},
		{name: "sandboxes are the runtime's", policy: on, c: func() *view.Container { c := withProcess(nil); c.Sandbox = true; return c }()},
		{name: "remapped into a user namespace", policy: on + "  action: remap\n", c: withProcess(nil),
			want:     []string{"run-as-root: process.user.uid = 0: runs as root in the node's user namespace (moved into a user namespace of the pod's own), by rule runAsRoot.action (test.yaml:6)"},
			verdicts: []Verdict{Rewrite}},
		{name: "remap refused in the node's pid namespace", policy: on + "  action: remap\n", c: func() *view.Container {
			c := withProcess(nil)
			c.Namespaces = slices.DeleteFunc(c.Namespaces, func(ns view.Namespace) bool { return ns.Type == "pid" })
			return c
		}(), want: []string{"shares the node's pid namespace, so it cannot be given a user namespace, by rule runAsRoot.action (test.yaml:6); run the pod without host namespaces, or add an exception for this pod that sets runAsRoot.mode: off"}, verdicts: []Verdict{Refuse}},
	})
}

func TestLSM(t *testing.T) {
	s := loadControls(t, "")
	c := withProcess(func(p *view.Process) { p.AppArmorProfile = "unconfined"; p.SELinuxLabel = "system_u:system_r:spc_t:s0" })
	if got := (LSM{}).Check(c, s, &Env{}); len(got) != 0 {
		t.Fatalf("a node without LSMs has nothing to opt out of: %s", texts(got))
	}
	got := LSM{}.Check(c, s, &Env{Caller: Caller{AppArmor: true}})
	if len(got) != 1 || got[0].Field != "process.apparmorProfile" || got[0].Value != "unconfined" {
		t.Fatalf("apparmor: %s", texts(got))
	}
	got = LSM{}.Check(c, s, &Env{Caller: Caller{SELinux: true}})
	if len(got) != 1 || got[0].Value != "system_u:system_r:spc_t:s0" {
		t.Fatalf("selinux: %s", texts(got))
	}
	c.Process.AppArmorProfile, c.Process.SELinuxLabel = "cri-containerd.apparmor.d", "system_u:system_r:container_t:s0:c1,c2"
	if got := (LSM{}).Check(c, s, &Env{Caller: Caller{AppArmor: true, SELinux: true}}); len(got) != 0 {
		t.Fatalf("confined container: %s", texts(got))
	}
}

func TestLSMSettings(t *testing.T) {
	types := "lsm:\n  selinuxTypes: [container_t, container_init_t]\n"
	label := func(l string) *view.Container {
		return withProcess(func(p *view.Process) { p.AppArmorProfile = "cri-containerd.apparmor.d"; p.SELinuxLabel = l })
	}
	sandbox := withProcess(nil)
	sandbox.Sandbox = true
	cases := []struct {
		name, policy string
		c            *view.Container
		want         string
	}{
		{"a sandbox has no AppArmor profile, by containerd's design", "", sandbox, ""},
		{"any confined type passes without a list", "", label("system_u:system_r:somevalue:s0"), ""},
		{"a type outside the list is refused", types, label("system_u:system_r:somevalue:s0"),
			"lsm: process.selinuxLabel = system_u:system_r:somevalue:s0: SELinux type somevalue is not in the allowed list, by rule lsm.selinuxTypes (test.yaml:5)"},
		{"a listed type passes", types, label("system_u:system_r:container_init_t:s0"), ""},
		{"unconfined types stay refused", types, label("system_u:system_r:spc_t:s0"), "unconfined SELinux type"},
		{"a user outside the list is refused", "lsm:\n  selinuxUsers: [system_u]\n  selinuxRoles: [system_r]\n", label("staff_u:system_r:container_t:s0"),
			"SELinux user staff_u is not in the allowed list, by rule lsm.selinuxUsers (test.yaml:5); remove seLinuxOptions.user from the pod"},
		{"a role outside the list is refused", "lsm:\n  selinuxRoles: [system_r]\n", label("system_u:object_r:container_t:s0"), "SELinux role object_r"},
		{"the default user and role pass", "lsm:\n  selinuxUsers: [system_u]\n  selinuxRoles: [system_r]\n", label("system_u:system_r:container_t:s0:c1,c2"), ""},
	}
	for _, tc := range cases {
		got := LSM{}.Check(tc.c, loadControls(t, tc.policy), &Env{Caller: Caller{AppArmor: true, SELinux: true}})
		if (tc.want == "") != (len(got) == 0) || (tc.want != "" && !strings.Contains(got[0].Text(), tc.want)) {
			t.Errorf("%s: %s", tc.name, texts(got))
		}
	}
}

// testReadOnlyRootScratch: a forced read-only root keeps the scratch
// directories writable through a tmpfs each, except where a volume
// already decides (at the directory or above it); /var/run is /run.
func testReadOnlyRootScratch(t *testing.T) {
	writable := func(mounts ...string) *view.Container {
		c := withProcess(func(p *view.Process) { p.RootReadonly = false })
		for _, dest := range mounts {
			c.Mounts = append(c.Mounts, view.Mount{Source: "/var/lib/kubelet/pods/x/volumes/v", Destination: dest, Type: "bind", Options: []string{"rbind", "rw"}})
		}
		return c
	}
	cases := []struct {
		name, policy string
		c            *view.Container
		want         []string
	}{
		{"the defaults", "", writable(), []string{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log", "/var/lib"}},
		{"a volume at a scratch directory keeps it", "", writable("/var/lib"), []string{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log"}},
		{"a volume above covers what is below", "", writable("/var"), []string{"/tmp", "/run"}},
		{"a volume below does not", "", writable("/var/lib/postgresql/data", "/var/run/secrets/kubernetes.io/serviceaccount"), []string{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log", "/var/lib"}},
		{"a volume at /var/run is not one at /run (the image decides whether it links them)", "", writable("/var/run"), []string{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log", "/var/lib"}},
		{"a volume cleaned as runc cleans it", "", writable("/var/run/../lib/x/.."), []string{"/tmp", "/var/tmp", "/run", "/var/cache", "/var/log"}},
		{"none in a user namespace", "", func() *view.Container { c := writable(); c.Process.UserNamespace = true; return c }(), nil},
		{"the node's own list", "readOnlyRootFilesystem:\n  scratch: [/srv/cache]\n  scratchSize: 10%\n", writable(), []string{"/srv/cache"}},
		{"none", "readOnlyRootFilesystem:\n  scratch: []\n", writable(), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ReadOnlyRoot{}.Check(tc.c, loadControls(t, tc.policy), testEnv())
			if len(got) != 1 || got[0].Rewrite == nil {
				t.Fatalf("want one rewrite, got %s", texts(got))
			}
			var dirs []string
			for _, m := range got[0].Rewrite.Scratch {
				dirs = append(dirs, m.Destination)
				if m.Type != "tmpfs" || !slices.Contains(m.Options, "noexec") || !slices.Contains(m.Options, "nosuid") ||
					!slices.Contains(m.Options, "nodev") || !slices.Contains(m.Options, "tmpcopyup") {
					t.Errorf("scratch mount %+v: want a nosuid, nodev, noexec tmpfs with the image's contents", m)
				}
			}
			if !slices.Equal(dirs, tc.want) {
				t.Errorf("scratch over %v, want %v", dirs, tc.want)
			}
		})
	}
}
