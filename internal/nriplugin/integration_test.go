package nriplugin

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	validator "github.com/containerd/nri/plugins/default-validator/builtin"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/record"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// These tests run the real plugin against NRI's own runtime side
// (pkg/adaptation, what containerd embeds) over real ttrpc on a unix
// socket: registration, Configure, CreateContainer and the validation
// phase all cross the wire as they do under containerd.

const testPolicy = `apiVersion: nri-guard.io/v1alpha1
kind: NodePolicy
controls:
  hostMounts:
    action: refuse
  devices:
    action: remove
exceptions:
  - name: no-device-rules
    match:
      namespaces: [nodevices]
    controls:
      devices:
        mode: off
      plugins:
        allow: [{plugin: 20-remover, fields: [env]}]
  - name: log-shipper
    match:
      namespaces: [logging]
    controls:
      hostMounts:
        action: readOnly
  - name: confining
    match:
      namespaces: [confining]
    controls:
      seccomp:
        localhost: confining
`

var testKey = []byte("0123456789abcdef0123456789abcdef")

var testProfile = &specs.LinuxSeccomp{
	DefaultAction: specs.ActErrno,
	Architectures: []specs.Arch{specs.ArchX86_64},
	Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write"}, Action: specs.ActAllow}},
}

type harness struct {
	t         *testing.T
	dir       string
	socket    string
	runtime   *adaptation.Adaptation
	connected chan struct{}
	// readDecisions returns the decision log so far.
	readDecisions func() string
	cancel        context.CancelFunc
	done          chan error
}

// lockedBuffer lets the test read the decision log while the plugin
// writes it.
type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func newHarness(t *testing.T, runtimeVersion string) *harness {
	t.Helper()
	dir, err := os.MkdirTemp("", "nri-guard-it-") // short: unix socket paths max ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &harness{t: t, dir: dir, socket: filepath.Join(dir, "nri.sock"), connected: make(chan struct{}, 10)}
	h.startRuntime(runtimeVersion)
	h.startGuard(true)
	return h
}

func (h *harness) startRuntime(version string) {
	h.t.Helper()
	sync := func(ctx context.Context, cb adaptation.SyncCB) error {
		_, err := cb(ctx, nil, nil)
		return err
	}
	update := func(context.Context, []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
		return nil, nil
	}
	empty := filepath.Join(h.dir, "none")
	os.MkdirAll(empty, 0o755)
	r, err := adaptation.New("containerd", version, sync, update,
		adaptation.WithSocketPath(h.socket),
		adaptation.WithPluginPath(empty),
		adaptation.WithPluginConfigPath(empty),
		adaptation.WithDefaultValidator(&validator.DefaultValidatorConfig{Enable: true, RequiredPlugins: []string{Name}}),
	)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.runtime = r
	h.t.Cleanup(r.Stop)
}

func (h *harness) startGuard(waitReady bool) {
	pol, err := policy.Parse(policy.Input{Name: "/etc/nri-guard/policy.yaml", Data: []byte(testPolicy)})
	if err != nil {
		h.t.Fatal(err)
	}
	out := &lockedBuffer{}
	p := New(Options{
		Index:     "10",
		RecordKey: testKey,
		Decisions: decisionlog.New(decisionlog.Stream(out)),
		Configure: func(string) (*policy.Policy, controls.Profiles, error) {
			return pol, controls.Profiles(map[policy.HostPath]*specs.LinuxSeccomp{"": testProfile}), nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() {
		h.done <- p.Run(ctx, Connection{SocketPath: h.socket, OnConnected: func() { h.connected <- struct{}{} }})
	}()
	h.t.Cleanup(func() { cancel(); <-h.done })
	h.readDecisions = func() string { out.mu.Lock(); defer out.mu.Unlock(); return out.String() }
	if waitReady {
		h.waitReady()
	}
}

// waitReady waits until the runtime consults nri-guard: registration
// returns to the plugin a moment before the runtime lists it.
func (h *harness) waitReady() {
	h.t.Helper()
	h.waitConnected()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := h.create(testPod("probe", "probe"), testContainer("probe"))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("runtime never consulted nri-guard: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) waitConnected() {
	h.t.Helper()
	select {
	case <-h.connected:
	case <-time.After(10 * time.Second):
		h.t.Fatal("nri-guard did not register with the runtime")
	}
}

func (h *harness) create(pod *api.PodSandbox, ctr *api.Container) (*api.CreateContainerResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return h.runtime.CreateContainer(ctx, &api.CreateContainerRequest{Pod: pod, Container: ctr})
}

func testPod(ns, name string) *api.PodSandbox {
	return &api.PodSandbox{Id: "sandbox-" + name, Uid: "uid-" + name, Name: name, Namespace: ns}
}

func podNamespaces() []*api.LinuxNamespace {
	return []*api.LinuxNamespace{
		{Type: "pid", Path: "/proc/4242/ns/pid"}, {Type: "ipc", Path: "/proc/4242/ns/ipc"},
		{Type: "network", Path: "/proc/4242/ns/net"}, {Type: "uts", Path: "/proc/4242/ns/uts"}, {Type: "mount"},
	}
}

func testContainer(id string, mounts ...*api.Mount) *api.Container {
	return &api.Container{
		Id: id, PodSandboxId: "sandbox", Name: id, Mounts: mounts,
		Linux: &api.LinuxContainer{
			Namespaces:     podNamespaces(),
			SeccompProfile: &api.SecurityProfile{ProfileType: api.SecurityProfile_RUNTIME_DEFAULT},
		},
	}
}

func TestRefusalReachesTheRuntimeWithTheExactText(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	_, err := h.create(testPod("kube-system", "evil"), testContainer("c1",
		&api.Mount{Source: "/run", Destination: "/host-run", Type: "bind", Options: []string{"rbind", "rw"}}))
	if err == nil {
		t.Fatal("container with /run mounted was not refused")
	}
	exact := "nri-guard: refused kube-system/evil/c1: host-mounts: mounts[/host-run].source = /run: contains /run/k3s/containerd/containerd.sock, denied, by rule hostMounts.paths (built-in default); to allow it, add an exception for this pod that sets hostMounts.allow: [/run]"
	if !strings.Contains(err.Error(), exact) {
		t.Fatalf("refusal over ttrpc:\n got: %v\nwant it to contain: %s", err, exact)
	}
	rec := h.lastDecision(t)
	if rec.Action != "refuse" || rec.Findings[0].Control != "host-mounts" || rec.Findings[0].Field != "mounts[/host-run].source" || rec.Findings[0].Value != "/run" {
		t.Fatalf("decision log: %+v", rec)
	}
}

func TestRewriteComesBackAsAdjustment(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	ctr := testContainer("c2",
		&api.Mount{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}})
	ctr.Linux.SeccompProfile = nil // unconfined: no profile asked, none in the spec
	rpl, err := h.create(testPod("logging", "shipper"), ctr)
	if err != nil {
		t.Fatalf("rewritable container refused: %v", err)
	}
	adj := rpl.GetAdjust()
	sc := adj.GetLinux().GetSeccompPolicy()
	if sc == nil || sc.DefaultAction != string(specs.ActErrno) || len(sc.Syscalls) != 1 {
		t.Fatalf("seccomp policy not in the adjustment: %+v", adj.GetLinux())
	}
	var ro *api.Mount
	for _, m := range adj.GetMounts() {
		if m.Destination == "/logs" {
			ro = m
		}
	}
	if ro == nil || ro.Options[len(ro.Options)-1] != "ro" || ro.Source != "/var/log" {
		t.Fatalf("read-only /logs mount not in the adjustment: %+v", adj.GetMounts())
	}
	if rec := h.lastDecision(t); rec.Action != "rewrite" || rec.Exception != "log-shipper" || len(rec.Findings) != 2 {
		t.Fatalf("decision log: %+v", rec)
	}
	r, err := record.Verify(testKey, "c2", adj.GetAnnotations()[record.Annotation])
	if err != nil || r.Exception != "log-shipper" {
		t.Fatalf("decision record for the runtime wrapper: %+v %v (annotations %v)", r, err, adj.GetAnnotations())
	}
}

// TestDeviceRemovalIsRefusedNotClaimed pins down why devices.action
// "remove" is served as a refusal through NRI: the runtime side drops a
// plugin's removal of a device the container already had from the
// combined adjustment, so the device would stay.
func TestDeviceRemovalIsRefusedNotClaimed(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	ctr := testContainer("c8")
	ctr.Linux.Devices = []*api.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	_, err := h.create(testPod("default", "fuse"), ctr)
	if err == nil || !strings.Contains(err.Error(), "devices: linux.devices[/dev/fuse] = c 10:229: host device not in the allowlist (devices.action is remove, but this runtime path cannot remove devices, so it is refused)") {
		t.Fatalf("got %v", err)
	}

	adj := &api.ContainerAdjustment{}
	adj.RemoveDevice("/dev/fuse")
	adj.AddEnv("REMOVER_RAN", "1")
	startPlugin(t, h, "remover", adj)
	rpl := waitFor(t, func() (*api.CreateContainerResponse, bool) {
		rpl, err := h.create(testPod("nodevices", "fuse"), ctr)
		return rpl, err == nil && len(rpl.GetAdjust().GetEnv()) > 0
	})
	for _, d := range rpl.GetAdjust().GetLinux().GetDevices() {
		if _, marked := d.IsMarkedForRemoval(); marked {
			t.Fatal("NRI now forwards device removals: devices.action remove can become a rewrite")
		}
	}
}

// fixedPlugin returns the same adjustment for every container.
type fixedPlugin struct{ adj *api.ContainerAdjustment }

func (f *fixedPlugin) CreateContainer(context.Context, *api.PodSandbox, *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	return f.adj, nil, nil
}

func startPlugin(t *testing.T, h *harness, name string, adj *api.ContainerAdjustment) {
	t.Helper()
	s, err := stub.New(&fixedPlugin{adj: adj}, stub.WithPluginName(name), stub.WithPluginIdx("20"), stub.WithSocketPath(h.socket))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
}

// waitFor polls until ok: a plugin that just registered is consulted a
// moment after its registration returns.
func waitFor[T any](t *testing.T, try func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := try()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached; last: %+v", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func evilMount() *api.ContainerAdjustment {
	adj := &api.ContainerAdjustment{}
	adj.AddMount(&api.Mount{Source: "/", Destination: "/host", Type: "bind", Options: []string{"rbind", "rw"}})
	return adj
}

func evilHook() *api.ContainerAdjustment {
	adj := &api.ContainerAdjustment{}
	adj.AddHooks(&api.Hooks{CreateRuntime: []*api.Hook{{Path: "/tmp/own-the-node"}}})
	return adj
}

func refusedWith(t *testing.T, h *harness, pod *api.PodSandbox, ctr *api.Container) error {
	return waitFor(t, func() (error, bool) {
		_, err := h.create(pod, ctr)
		return err, err != nil
	})
}

func TestValidationCatchesALaterPluginsRelaxation(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	startPlugin(t, h, "evil", evilMount())
	err := refusedWith(t, h, testPod("default", "web"), testContainer("c3"))
	for _, want := range []string{
		`validator "10-nri-guard" rejected container adjustment`,
		"nri-guard: refused default/web/c3: host-mounts: mounts[/host].source = /: is /, denied (set by NRI plugin 20-evil)",
		"(judged after all NRI plugins ran)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation error lacks %q:\n%v", want, err)
		}
	}
	if rec := h.lastDecision(t); rec.Phase != "validate" || rec.Findings[0].By != "20-evil" {
		t.Fatalf("decision log: %+v", rec)
	}
}

func TestValidationRefusesHooksFromOtherPlugins(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	startPlugin(t, h, "evil", evilHook())
	err := refusedWith(t, h, testPod("default", "web"), testContainer("c4"))
	if !strings.Contains(err.Error(), "plugins: hooks.createRuntime = /tmp/own-the-node: OCI hook added by another plugin would run as root on the node (set by NRI plugin 20-evil)") {
		t.Fatalf("hook from another plugin: %v", err)
	}
}

func TestOldRuntimeGetsNoValidationSubscription(t *testing.T) {
	// containerd 2.1 speaks NRI v0.8: subscribing to validation there
	// fails registration ("invalid plugin events"). The adaptation here is
	// new, so this checks what we ask for, not what it would refuse.
	h := newHarness(t, "v2.1.9")
	ctr := testContainer("c5")
	ctr.Linux.SeccompProfile = nil
	rpl, err := h.create(testPod("default", "web"), ctr)
	if err != nil {
		t.Fatal(err)
	}
	if rpl.GetAdjust().GetLinux().GetSeccompPolicy() != nil {
		t.Fatal("on containerd 2.1 the seccomp rewrite would be dropped silently; the plugin must not claim it")
	}
	startPlugin(t, h, "evil", evilMount())
	waitFor(t, func() (*api.CreateContainerResponse, bool) {
		rpl, err := h.create(testPod("default", "web"), testContainer("c6"))
		if err != nil {
			t.Fatalf("without a validation subscription nothing can reject here, got %v", err)
		}
		return rpl, len(rpl.GetAdjust().GetMounts()) > 0
	})
}

// TestHelperRuntime is not a test: TestReconnectsWhenTheRuntimeRestarts
// runs it in a child process as a runtime it can kill, because only a
// dying process drops plugin connections the way a containerd restart
// does (Adaptation.Stop leaves external plugins connected).
func TestHelperRuntime(t *testing.T) {
	socket := os.Getenv("NRI_GUARD_HELPER_RUNTIME_SOCKET")
	if socket == "" {
		t.Skip("only runs as a child of TestReconnectsWhenTheRuntimeRestarts")
	}
	h := &harness{t: t, dir: filepath.Dir(socket), socket: socket}
	h.startRuntime("v2.4.2")
	select {}
}

func TestReconnectsWhenTheRuntimeRestarts(t *testing.T) {
	dir, err := os.MkdirTemp("", "nri-guard-it-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &harness{t: t, dir: dir, socket: filepath.Join(dir, "nri.sock"), connected: make(chan struct{}, 10)}
	child := exec.Command(os.Args[0], "-test.run=^TestHelperRuntime$")
	child.Env = append(os.Environ(), "NRI_GUARD_HELPER_RUNTIME_SOCKET="+h.socket)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	h.startGuard(false)
	h.waitConnected()

	child.Process.Kill() // the runtime dies; its socket stays behind
	child.Wait()
	start := time.Now()
	h.startRuntime("v2.4.2")
	h.waitReady()
	t.Logf("re-registered and consulted %s after the runtime came back", time.Since(start).Round(time.Millisecond))
	if _, err := h.create(testPod("default", "web"), testContainer("c7")); err != nil {
		t.Fatalf("creation after reconnect: %v", err)
	}
}

func (h *harness) lastDecision(t *testing.T) decisionlog.Record {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(h.readDecisions()), "\n")
	var rec decisionlog.Record
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		t.Fatalf("decision log line %q: %v", lines[len(lines)-1], err)
	}
	return rec
}
