package userns

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func podSpec() *specs.Spec {
	return &specs.Spec{
		Hostname: "web",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue"},
			{Destination: "/data", Type: "bind", Source: "/var/lib/kubelet/pods/p/volumes/d", Options: []string{"rbind", "rw"}},
			{Destination: "/shared", Source: "/srv/shared", Options: []string{"rbind", "ro", "idmap"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-1"}, {Type: specs.PIDNamespace}},
			Sysctl:     map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1"},
		},
	}
}

func mount(t *testing.T, s *specs.Spec, dest string) specs.Mount {
	t.Helper()
	for _, m := range s.Mounts {
		if m.Destination == dest {
			return m
		}
	}
	t.Fatalf("no mount at %s", dest)
	return specs.Mount{}
}

func TestOwnCreatesTheNamespaceWithThePodRange(t *testing.T) {
	s := podSpec()
	Own(s, 1<<30, false)
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 30, Size: 65536}}
	if !slices.Equal(s.Linux.UIDMappings, want) || !slices.Equal(s.Linux.GIDMappings, want) {
		t.Fatalf("mappings %v %v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	if !slices.Contains(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace}) {
		t.Fatalf("no new user namespace in %v", s.Linux.Namespaces)
	}
	if sys := mount(t, s, "/sys"); sys.Type != "bind" || sys.Source != "/sys" || !slices.Equal(sys.Options, []string{"rbind", "nosuid", "noexec", "nodev", "rro"}) {
		t.Fatalf("/sys is %+v, want a recursive read-only bind of the node's /sys", sys)
	}
	for _, p := range []string{"/sys/kernel/security", "/sys/kernel/debug", "/sys/fs/bpf"} {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			t.Errorf("%s of the node's /sys is not masked: %v", p, s.Linux.MaskedPaths)
		}
	}
	if data := mount(t, s, "/data"); !slices.Equal(data.Options, []string{"rbind", "rw", "idmap"}) {
		t.Fatalf("volume options %v, want idmap added", data.Options)
	}
	if shared := mount(t, s, "/shared"); !slices.Equal(shared.Options, []string{"rbind", "ro", "idmap"}) {
		t.Fatalf("idmap added twice: %v", shared.Options)
	}
	if proc := mount(t, s, "/proc"); len(proc.Options) != 0 {
		t.Fatalf("proc changed: %v", proc.Options)
	}
	mount(t, s, "/dev/mqueue")
	if s.Hostname != "web" {
		t.Fatal("a sandbox keeps its hostname")
	}
}

func TestOwnInNodeOwnedIPCDropsMqueueAndHostname(t *testing.T) {
	s := podSpec()
	Own(s, 1<<30, true)
	if slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool { return m.Type == "mqueue" }) || s.Hostname != "" {
		t.Fatalf("mqueue or hostname left: %v %q", s.Mounts, s.Hostname)
	}
}

func TestJoinUsesThePathWithoutMappings(t *testing.T) {
	s := podSpec()
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 5, Size: 1}}
	Join(s, "/proc/42/ns/user")
	if s.Linux.UIDMappings != nil || s.Linux.GIDMappings != nil {
		t.Fatal("runc refuses a path together with mappings")
	}
	users := slices.DeleteFunc(slices.Clone(s.Linux.Namespaces), func(ns specs.LinuxNamespace) bool { return ns.Type != specs.UserNamespace })
	if len(users) != 1 || users[0].Path != "/proc/42/ns/user" {
		t.Fatalf("user namespaces %v", users)
	}
}

func TestTakeNetSysctls(t *testing.T) {
	s := podSpec()
	got := TakeNetSysctls(s)
	if len(got) != 1 || got["net.ipv4.ip_unprivileged_port_start"] != "0" {
		t.Fatalf("took %v", got)
	}
	if _, left := s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"]; left || s.Linux.Sysctl["kernel.shm_rmid_forced"] != "1" {
		t.Fatalf("left %v", s.Linux.Sysctl)
	}
	if NamespacePath(s, specs.NetworkNamespace) != "/var/run/netns/cni-1" || NamespacePath(s, specs.PIDNamespace) != "" {
		t.Fatal("network namespace path")
	}
	for _, bad := range []string{"", "net/../../etc", "net..x"} {
		if _, err := SysctlPath(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMountTargetsCreatesWhatTheImageLacks(t *testing.T) {
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	os.MkdirAll(filepath.Join(rootfs, "run"), 0o755)
	os.Symlink("/run", filepath.Join(rootfs, "var-run")) // an absolute link stays in the root
	hostFile := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hostFile, []byte("127.0.0.1 localhost\n"), 0o644)
	mounts := []specs.Mount{
		{Destination: "/dev", Type: "tmpfs"},
		{Destination: "/dev/shm", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}},
		{Destination: "/etc/hosts", Type: "bind", Source: hostFile, Options: []string{"rbind"}},
		{Destination: "/var-run/secrets/kubernetes.io/serviceaccount", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}},
	}
	if err := MountTargets(rootfs, mounts); err != nil {
		t.Fatal(err)
	}
	for path, dir := range map[string]bool{"dev": true, "etc/hosts": false, "run/secrets/kubernetes.io/serviceaccount": true} {
		fi, err := os.Lstat(filepath.Join(rootfs, path))
		if err != nil || fi.IsDir() != dir {
			t.Errorf("%s: %v (dir %v, want %v)", path, err, fi != nil && fi.IsDir(), dir)
		}
	}
	if _, err := os.Lstat(filepath.Join(rootfs, "dev", "shm")); err == nil {
		t.Error("/dev/shm lies in the /dev mount; runc creates it there")
	}
}

// A hostile image links a directory to a path outside its root; the
// target must land inside the root, never on the node.
func TestMountTargetsStayInsideTheRoot(t *testing.T) {
	outside := t.TempDir()
	rootfs := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(rootfs, "escape")); err != nil {
		t.Fatal(err)
	}
	os.Symlink("../../../../../../..", filepath.Join(rootfs, "up"))
	// The link's absolute target names a path of the node; inside the
	// root it names the same path below the root, which is created there.
	if err := MountTargets(rootfs, []specs.Mount{{Destination: "/escape/planted", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, outside, "planted")); err != nil {
		t.Fatalf("the link's target inside the root: %v", err)
	}
	if err := MountTargets(rootfs, []specs.Mount{{Destination: "/up/planted2", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}}}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 0 {
		t.Fatalf("created outside the root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "planted2")); err != nil {
		t.Fatalf("a relative link up from the root resolves to the root: %v", err)
	}
}

// An image's link to a file that is not there yet (systemd-resolved's
// stub on the host side) gets its target created inside the root, as
// runc would do, so the mount goes onto what the link names.
func TestMountTargetsFollowsLinksToMissingTargets(t *testing.T) {
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	os.Symlink("../run/systemd/resolve/stub-resolv.conf", filepath.Join(rootfs, "etc", "resolv.conf"))
	os.Symlink("/run", filepath.Join(rootfs, "var-run"))
	src := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(src, []byte("nameserver 10.43.0.10\n"), 0o644)
	mounts := []specs.Mount{
		{Destination: "/etc/resolv.conf", Type: "bind", Source: src, Options: []string{"rbind"}},
		{Destination: "/var-run/secrets/token", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}},
	}
	if err := MountTargets(rootfs, mounts); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "run/systemd/resolve/stub-resolv.conf")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the link's target: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "run/secrets/token")); err != nil || !fi.IsDir() {
		t.Fatalf("through an absolute link: %v", err)
	}
}

func TestMountTargetsStopsAtLinkLoops(t *testing.T) {
	rootfs := t.TempDir()
	os.Symlink("b", filepath.Join(rootfs, "a"))
	os.Symlink("a", filepath.Join(rootfs, "b"))
	err := MountTargets(rootfs, []specs.Mount{{Destination: "/a/x", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}}})
	if err == nil {
		t.Fatal("a link loop was not reported")
	}
}
