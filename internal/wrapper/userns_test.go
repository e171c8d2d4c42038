package wrapper

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/internal/idpool"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/runcstate"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func poolConfig(t *testing.T) idpool.Config {
	return idpool.Config{State: filepath.Join(t.TempDir(), "pool.json"), First: 1 << 20, Count: 4}
}

func hold(t *testing.T, cfg idpool.Config, owner, root string, since time.Time) {
	t.Helper()
	p, err := idpool.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Allocate(owner, root, "ns/pod", since); err != nil {
		t.Fatal(err)
	}
}

func holds(t *testing.T, cfg idpool.Config, owner string) bool {
	t.Helper()
	p, err := idpool.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, ok := p.Lookup(owner)
	return ok
}

// A pod's range comes back only once runc really deleted the sandbox: a
// failed delete leaves the pod running with its ids.
func TestDeleteReturnsTheRangeOnlyAfterRuncSucceeded(t *testing.T) {
	cfg := Config{UserNamespacePool: poolConfig(t)}
	hold(t, cfg.UserNamespacePool, "sandbox1", "", time.Now())
	inv := parseInvocation(strings.Fields("--root " + t.TempDir() + " delete --force sandbox1"))

	code, done := releaseOnDelete(cfg, inv, func() int { return 1 })
	if !done || code != 1 || !holds(t, cfg.UserNamespacePool, "sandbox1") {
		t.Fatalf("failed delete: done=%v code=%d held=%v, want runc's code and the range kept", done, code, holds(t, cfg.UserNamespacePool, "sandbox1"))
	}
	ran := false
	code, done = releaseOnDelete(cfg, inv, func() int { ran = true; return 0 })
	if !done || code != 0 || !ran || holds(t, cfg.UserNamespacePool, "sandbox1") {
		t.Fatalf("delete: done=%v code=%d ran=%v, want the range returned", done, code, ran)
	}
	other := parseInvocation(strings.Fields("delete app1"))
	if _, done := releaseOnDelete(cfg, other, func() int { t.Fatal("runc ran as a child for a container without a range"); return 0 }); done {
		t.Fatal("a container without a range is passed straight to runc")
	}
}

// The sweep takes back the range of a sandbox whose runc state is gone
// (its delete never reached the wrapper), never a young one.
func TestAllocationSweepsRangesOfVanishedSandboxes(t *testing.T) {
	cfg := poolConfig(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "alive"), 0o700)
	old := time.Now().Add(-time.Hour)
	hold(t, cfg, "alive", root, old)
	hold(t, cfg, "vanished", root, old)
	hold(t, cfg, "creating", root, time.Now())
	if _, _, err := allocate(cfg, "new", root, &view.Container{}); err != nil {
		t.Fatal(err)
	}
	for owner, want := range map[string]bool{"alive": true, "vanished": false, "creating": true, "new": true} {
		if got := holds(t, cfg, owner); got != want {
			t.Errorf("%s held=%v, want %v", owner, got, want)
		}
	}
}

func TestHostIDOfRoot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gid_map")
	os.WriteFile(path, []byte("         0 1879048192      65536\n"), 0o644)
	if id, err := hostIDOfRoot(path); err != nil || id != 1879048192 {
		t.Fatalf("%d %v", id, err)
	}
	os.WriteFile(path, []byte("1 5 1\n"), 0o644)
	if _, err := hostIDOfRoot(path); err == nil {
		t.Fatal("a map without id 0 was accepted")
	}
}

// A configuration that names only the pool's file keeps the default
// floor and size; a pool past the 32-bit ids is refused with the file.
func TestConfigPoolDefaultsAndValidation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runtime.yaml")
	t.Setenv(ConfigEnv, path)
	os.WriteFile(path, []byte("runc: /usr/bin/runc\nuserNamespacePool: {state: /var/lib/x/pool.json}\n"), 0o644)
	cfg, _, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := idpool.DefaultConfig()
	want.State = "/var/lib/x/pool.json"
	if cfg.UserNamespacePool != want {
		t.Fatalf("pool %+v, want %+v", cfg.UserNamespacePool, want)
	}
	os.WriteFile(path, []byte("runc: /usr/bin/runc\nuserNamespacePool: {first: 4294901760, count: 2}\n"), 0o644)
	if _, _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming %s", err, path)
	}
}

// The sandbox's pid is trusted only with its start time: a pid whose
// process is gone may name another process, in another pod's namespaces.
func TestInitPIDChecksTheStartTime(t *testing.T) {
	root := t.TempDir()
	self := os.Getpid()
	start, err := runcstate.ProcessStart(self)
	if err != nil || start == 0 {
		t.Fatalf("start time of this process: %d %v", start, err)
	}
	write := func(start uint64) {
		os.MkdirAll(filepath.Join(root, "sb"), 0o700)
		data := fmt.Sprintf(`{"init_process_pid": %d, "init_process_start": %d}`, self, start)
		os.WriteFile(filepath.Join(root, "sb", "state.json"), []byte(data), 0o600)
	}
	write(start)
	if pid, err := initPID(root, "sb"); err != nil || pid != self {
		t.Fatalf("live sandbox: %d %v", pid, err)
	}
	write(start + 1)
	if _, err := initPID(root, "sb"); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("a reused pid was accepted: %v", err)
	}
}

// A container that outlives its sandbox (pause killed during the pod's
// grace period) keeps the pod's range: neither the delete of the sandbox
// nor the sweep hands it out while the container's runc state is there.
func TestRangeStaysWhileAContainerOfThePodIsLeft(t *testing.T) {
	root := t.TempDir()
	cfg := Config{UserNamespacePool: poolConfig(t)}
	hold(t, cfg.UserNamespacePool, "sandbox1", root, time.Now().Add(-time.Hour))
	app := filepath.Join(root, "app1")
	os.MkdirAll(app, 0o700)
	os.WriteFile(filepath.Join(app, "state.json"), []byte(`{"config": {"labels": ["io.kubernetes.cri.sandbox-id=sandbox1", "bundle=/b"]}}`), 0o600)

	inv := parseInvocation(strings.Fields("--root " + root + " delete sandbox1"))
	if code, done := releaseOnDelete(cfg, inv, func() int { return 0 }); !done || code != 0 {
		t.Fatalf("done=%v code=%d", done, code)
	}
	if !holds(t, cfg.UserNamespacePool, "sandbox1") {
		t.Fatal("the range was returned while a container of the pod runs")
	}
	if _, _, err := allocate(cfg.UserNamespacePool, "other", root, &view.Container{}); err != nil {
		t.Fatal(err)
	}
	if !holds(t, cfg.UserNamespacePool, "sandbox1") {
		t.Fatal("the sweep took the range while a container of the pod runs")
	}
	os.RemoveAll(app)
	if _, _, err := allocate(cfg.UserNamespacePool, "third", root, &view.Container{}); err != nil {
		t.Fatal(err)
	}
	if holds(t, cfg.UserNamespacePool, "sandbox1") {
		t.Fatal("the sweep must return the range once the last container is gone")
	}
}

// TestDecisionLogSaysRefusedWhenALaterStepRefuses: the user namespace is
// entered after the decision; when that fails the container is refused,
// and the decision log must say so, not "rewrite".
func TestDecisionLogSaysRefusedWhenALaterStepRefuses(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.dir, "policy.yaml"), []byte(testPolicy+"controls:\n  userNamespaces:\n    mode: enforce\n    want: enable\n"), 0o644)
	s := appSpec("default")
	s.Annotations["io.kubernetes.cri.sandbox-id"] = "no-such-sandbox"
	f.writeSpec(t, s)
	msg := f.create("c1")
	if !strings.Contains(msg, "cannot be given a user namespace") {
		t.Fatalf("want a user namespace refusal, got %q", msg)
	}
	log, _ := os.ReadFile(f.cfg.DecisionLog)
	if !strings.Contains(string(log), `"action":"refuse"`) || !strings.Contains(string(log), "refused after the decision: ") {
		t.Fatalf("the decision log does not say refused:\n%s", log)
	}
}

// TestOwnStdio: the shim's pipes go to the namespace's root; a file of
// the node's, a named fifo and a pipe someone else owns keep their owner.
func TestOwnStdio(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown)")
	}
	var p [2]int
	must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	var other [2]int
	must(t, unix.Pipe2(other[:], unix.O_CLOEXEC))
	defer unix.Close(other[0])
	defer unix.Close(other[1])
	must(t, unix.Fchown(other[1], 1234, 1234))
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	must(t, err)
	defer f.Close()
	const id = 0x70000000
	fifo := filepath.Join(t.TempDir(), "fifo")
	must(t, unix.Mkfifo(fifo, 0o600))
	named, err := unix.Open(fifo, unix.O_RDWR|unix.O_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(named)
	must(t, ownStdio(id, p[0], p[1], other[1], int(f.Fd()), named, 99999))
	owner := func(fd int) uint32 {
		var st unix.Stat_t
		must(t, unix.Fstat(fd, &st))
		return st.Uid
	}
	if owner(p[1]) != id || owner(p[0]) != id {
		t.Errorf("the pipe is owned by %d, want %d", owner(p[1]), id)
	}
	if owner(other[1]) != 1234 || owner(int(f.Fd())) != 0 || owner(named) != 0 {
		t.Errorf("another's pipe (%d), a file (%d) or a named fifo (%d) changed owner", owner(other[1]), owner(int(f.Fd())), owner(named))
	}
}

// Only what the kubelet or containerd made fresh for this pod may lose
// its idmap, by its exact place; the red team's look-alikes may not.
func TestPodFresh(t *testing.T) {
	l := lifetime{kubeletRoot: "/var/lib/kubelet", containerdState: "/run/k3s/containerd"}
	c := &view.Container{Pod: view.Pod{UID: "u1", ID: "s1"}, Mounts: []view.Mount{
		{Destination: "/e", Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache"},
		{Destination: "/t", Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x"},
		{Destination: "/etc/hosts", Source: "/var/lib/kubelet/pods/u1/etc-hosts"},
		{Destination: "/dev/termination-log", Source: "/var/lib/kubelet/pods/u1/containers/c/abc"},
		{Destination: "/dev/shm", Source: "/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/shm"},
		// a persistent volume in the pod's directory
		{Destination: "/pv", Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~nfs/data"},
		// another pod's
		{Destination: "/other", Source: "/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache"},
		{Destination: "/host", Source: "/srv/data"},
		// look-alikes: the shape below another root, one level deeper, a
		// subPath, containerd's file at another destination or elsewhere
		{Destination: "/like", Source: "/srv/nfs/pods/u1/volumes/kubernetes.io~empty-dir/x"},
		{Destination: "/deep", Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/x/y"},
		{Destination: "/sub", Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/x", Via: "/var/lib/kubelet/pods/u1/volume-subpaths/v/c/0"},
		{Destination: "/shm2", Source: "/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/shm"},
		{Destination: "/etc/hostname", Source: "/srv/nfs/io.containerd.grpc.v1.cri/sandboxes/s1/hostname"},
		// a destination given twice borrows nothing
		{Destination: "/twice", Source: "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/e"},
		{Destination: "/twice", Source: "/srv/persist"},
	}}
	want := map[string]bool{"/e": true, "/t": true, "/etc/hosts": true, "/dev/termination-log": true, "/dev/shm": true,
		"/pv": false, "/other": false, "/host": false, "/like": false, "/deep": false, "/sub": false, "/shm2": false,
		"/etc/hostname": false, "/twice": false, "/added": false}
	for dest, fresh := range want {
		if got := podFresh(c, dest, l); got != fresh {
			t.Errorf("%s: fresh %v, want %v", dest, got, fresh)
		}
	}
	doubted := *c
	doubted.Pod.UIDDoubt = "no signed decision record vouches for the pod UID"
	if podFresh(&doubted, "/e", l) || !podFresh(&doubted, "/dev/shm", l) {
		t.Error("a pod UID no record vouches for makes no kubelet directory the pod's; containerd's shm needs none")
	}
	var settings policy.Controls
	settings.HostMounts.KubeletRoot.Value = "/var/lib/kubelet/"
	if got := lifetimeOf(&settings, "/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/abc"); got != l {
		t.Errorf("lifetimeOf: %+v, want %+v", got, l)
	}
}

// A sandbox refused after it got a range (a volume the kernel cannot
// idmap) gives the range back at once: runc never makes it, so no delete
// would; a range it already held before is kept.
func TestRefusedSandboxReturnsItsRange(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: an overlay mount and a user namespace")
	}
	dir := t.TempDir()
	for _, d := range []string{"layers", "ovl"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	layers, ovl := filepath.Join(dir, "layers"), filepath.Join(dir, "ovl")
	if err := unix.Mount("tmpfs", layers, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(layers, unix.MNT_DETACH)
	for _, d := range []string{"l", "u", "w"} {
		os.Mkdir(filepath.Join(layers, d), 0o755)
	}
	if err := unix.Mount("overlay", ovl, "overlay", 0, "lowerdir="+layers+"/l,upperdir="+layers+"/u,workdir="+layers+"/w"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(ovl, unix.MNT_DETACH)
	cfg := Config{UserNamespacePool: poolConfig(t), IDMapAnswers: filepath.Join(dir, "idmap")}
	root := t.TempDir()
	sandbox := &view.Container{ID: "sb1", Sandbox: true, Mounts: []view.Mount{{Destination: "/data", Source: ovl}}}
	spec := &specs.Spec{Mounts: []specs.Mount{{Destination: "/data", Type: "bind", Source: ovl, Options: []string{"rbind"}}}}
	err := enterUserNamespace(cfg, invocation{args: []string{"--root", root, "create", "sb1"}, verb: "create", verbAt: 2}, dir, spec, sandbox, lifetime{kubeletRoot: "/var/lib/kubelet"})
	if err == nil || !strings.Contains(err.Error(), "which this kernel cannot idmap") {
		t.Fatalf("a sandbox with a volume on overlayfs: %v", err)
	}
	if holds(t, cfg.UserNamespacePool, "sb1") {
		t.Fatal("the refused sandbox still holds its range")
	}
	hold(t, cfg.UserNamespacePool, "sb2", root, time.Now())
	sandbox.ID = "sb2"
	spec.Mounts[0].Options = []string{"rbind"}
	if err := enterUserNamespace(cfg, invocation{args: []string{"--root", root, "create", "sb2"}, verb: "create", verbAt: 2}, dir, spec, sandbox, lifetime{}); err == nil {
		t.Fatal("want refused")
	}
	if !holds(t, cfg.UserNamespacePool, "sb2") {
		t.Fatal("a range held before the refused create was given back")
	}
}
