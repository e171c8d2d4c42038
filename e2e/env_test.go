//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

// env is one real containerd with its own sockets, state and mount
// namespace under a temporary root, and nri-guard attached in one of the
// modes: "external" (the test runs `nri-guard run`), "preregistered"
// (containerd starts it from plugin_path) or "none" (no guard, and the
// default validator requires nothing: proves the infrastructure alone).
type env struct {
	t       testing.TB
	version string
	mode    string
	policy  policyRef
	root    string
	token   string // names the bridge and the pods' cgroup parent
	bin     string // containerd binaries of this version

	holder  *testhost.Proc // keeps the private mount namespace alive
	ctrd    *testhost.Proc
	guard   *testhost.Proc
	plugins []*testhost.Proc // extra external plugins (nridump)

	crictlCfg string
	closeOnce sync.Once

	// runtimes are further runc-shim runtimes (handler name to
	// BinaryName) for containerd's configuration (runtimehandlers_test.go).
	runtimes map[string]string
}

// policyRef is what the guard is started with.
type policyRef struct {
	File string // policy file
	Dir  string // drop-in directory, may be empty
}

// copiedPolicy is a private copy of a policy file with an empty drop-in
// directory, for a test that changes the node's policy.
func copiedPolicy(t *testing.T, from policyRef) policyRef {
	dir := t.TempDir()
	pol := policyRef{File: filepath.Join(dir, "policy.yaml"), Dir: filepath.Join(dir, "policy.d")}
	data, err := os.ReadFile(from.File)
	must(t, err)
	must(t, os.WriteFile(pol.File, data, 0o644))
	must(t, os.MkdirAll(pol.Dir, 0o755))
	return pol
}

func (e *env) path(parts ...string) string {
	return filepath.Join(append([]string{e.root}, parts...)...)
}

func (e *env) decisionLog() string { return e.path("decisions.jsonl") }

// newEnv starts containerd version v with nri-guard in mode and the e2e
// default policy.
func newEnv(t testing.TB, v, mode string) *env {
	t.Helper()
	return newEnvWith(t, v, mode, defaultPolicy)
}

// eachVersion runs body once per containerd version of the run, each in
// a fresh environment with the guard attached as an external plugin, the
// versions side by side (go test -parallel bounds how many at once): an
// environment shares nothing with another (its own root, mount
// namespace, bridge, cgroup parent and containerd). tag is the version
// without dots, for pod names.
func eachVersion(t *testing.T, body func(t *testing.T, e *env, tag string)) {
	eachVersionOf(t, versions, body)
}

// eachVersionOf is eachVersion over some of the versions (once each).
func eachVersionOf(t *testing.T, of []string, body func(t *testing.T, e *env, tag string)) {
	runVersions(t, of, true, body)
}

// eachVersionInTurn is eachVersion one version after another, for a test
// that keeps a core busy on its own (a racer in a tight loop) and would
// starve its neighbours.
func eachVersionInTurn(t *testing.T, body func(t *testing.T, e *env, tag string)) {
	runVersions(t, versions, false, body)
}

func runVersions(t *testing.T, of []string, parallel bool, body func(t *testing.T, e *env, tag string)) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	perVersion(t, of, parallel, func(t *testing.T, v string) {
		body(t, newEnv(t, v, "external"), strings.ReplaceAll(v, ".", ""))
	})
}

// sideBySide runs body once per version, as a subtest of its own, the
// versions in parallel (the environments share nothing), each counted.
func sideBySide(t *testing.T, of []string, body func(t *testing.T, v string)) {
	perVersion(t, of, true, body)
}

// perVersion runs body as one counted subtest per version, in parallel
// or in turn.
func perVersion(t *testing.T, of []string, parallel bool, body func(t *testing.T, v string)) {
	for _, v := range slices.Compact(of) {
		t.Run(v, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			defer count(t)
			body(t, v)
		})
	}
}

// newEnvWith starts an environment. Everything is torn down by
// t.Cleanup, also when the test fails, and by TestMain on a signal.
func newEnvWith(t testing.TB, v, mode string, pol policyRef) *env {
	t.Helper()
	e := newBareEnv(t, v, mode, pol)
	e.writeConfig()
	e.startNamespace()
	if mode == "external" {
		e.startGuard()
	}
	e.startContainerd()
	e.importImages()
	e.waitGuarded()
	return e
}

// newBareEnv makes an environment's root and registers its teardown;
// the caller configures and starts the rest (TestInstall writes its own
// containerd configuration).
func newBareEnv(t testing.TB, v, mode string, pol policyRef) *env {
	t.Helper()
	if stopping.Load() {
		t.Fatal("the run is being torn down")
	}
	e := &env{t: t, version: v, mode: mode, policy: pol, bin: filepath.Join(cacheDir, "containerd-"+v)}
	e.makeRoot()
	t.Cleanup(func() { e.close(t.Errorf) })
	registerCleanup(func() { e.close(func(f string, a ...any) { fmt.Printf("e2e: "+f+"\n", a...) }) })
	return e
}

// makeRoot creates the temporary root, named by a fresh token, and
// records the owner so a later run can sweep it if this one is killed.
func (e *env) makeRoot() {
	for {
		b := make([]byte, 3)
		rand.Read(b)
		e.token = hex.EncodeToString(b)
		e.root = filepath.Join(os.TempDir(), "nrig-"+e.token)
		err := os.Mkdir(e.root, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			e.t.Fatal(err)
		}
	}
	must(e.t, os.WriteFile(e.path("owner"), []byte(testhost.OwnerRecord()), 0o644))
}

var containerdConfig = template.Must(template.New("cfg").Parse(`version = 3
root = '{{.Root}}/root'
state = '{{.Root}}/state'
temp = '{{.Root}}/tmp'
[grpc]
  address = '{{.Root}}/containerd.sock'
[ttrpc]
  address = '{{.Root}}/containerd.sock.ttrpc'
[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'localhost/e2e/pause:1'
  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    disable_apparmor = true
    # root here lacks CAP_SYS_RESOURCE: without this, sandboxes fail to start.
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          # nri-guard-runc (which then runs the pinned runc), or runc itself
          # when no guard is attached.
          BinaryName = '{{.Runc}}'
          SystemdCgroup = false
{{- range $name, $bin := .Runtimes}}
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'{{$name}}']
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'{{$name}}'.options]
          BinaryName = '{{$bin}}'
          SystemdCgroup = false
{{- end}}
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['{{.CNIBin}}']
      conf_dir = '{{.Root}}/cni'
  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
  [plugins.'io.containerd.internal.v1.opt']
    path = '{{.Root}}/opt'
  [plugins.'io.containerd.shim.v1.manager']
    socket_dir = '{{.Root}}/s'
  [plugins.'io.containerd.nri.v1.nri']
    disable = false
    socket_path = '{{.Root}}/nri.sock'
    plugin_path = '{{.Root}}/nri/plugins'
    plugin_config_path = '{{.Root}}/nri/conf.d'
    plugin_registration_timeout = '5s'
    plugin_request_timeout = '2s'
    disable_connections = false
{{- if .Validator}}
    # Fail closed: no container is created while nri-guard is not connected.
    [plugins.'io.containerd.nri.v1.nri'.default_validator]
      enable = true
      required_plugins = [{{if .Required}}'nri-guard'{{end}}]
{{- end}}
`))

// An isolated bridge: no address on the host, no gateway, no masquerade,
// no routes, addresses from the benchmarking range. CRI insists on an
// eth0 with an address, so loopback alone does not do; this way pods get
// one and still reach nothing.
const cniConfig = `{"cniVersion": "1.0.0", "name": "nrig", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": false, "ipMasq": false, "hairpinMode": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "198.18.0.0/24"}]], "dataDir": %q}},
  {"type": "loopback"}]}`

func (e *env) writeConfig() {
	for _, d := range []string{"cni", "nri/plugins", "nri/conf.d", "pods", "ov"} {
		must(e.t, os.MkdirAll(e.path(d), 0o755))
	}
	var cfg bytes.Buffer
	must(e.t, containerdConfig.Execute(&cfg, map[string]any{
		"Root": e.root, "Runc": e.runtimeBinary(), "CNIBin": cniBinDir,
		"Validator": hasValidator(e.version), "Required": e.mode != "none", "Runtimes": e.runtimes,
	}))
	e.writeFile("config.toml", cfg.String())
	e.writeFile("cni/10-nrig.conflist", fmt.Sprintf(cniConfig, bridgeName(e.token), e.path("cni-ipam")))
	e.crictlCfg = e.path("crictl.yaml")
	sock := "unix://" + e.path("containerd.sock")
	e.writeFile("crictl.yaml", fmt.Sprintf("runtime-endpoint: %s\nimage-endpoint: %s\ntimeout: 20\n", sock, sock))
	if e.mode != "none" {
		e.writeFile("runtime.yaml", fmt.Sprintf("runc: %s\npolicy: %s\npolicyDir: %s\ndecisionLog: %s\nrecordKey: %s\nlastGood: %s\nuserNamespacePool: {state: %s, first: %d, count: 64}\n",
			runcBin, e.policy.File, e.policy.Dir, e.decisionLog(), e.recordKey(), e.path("last-good"), e.path("userns", "pool.json"), poolFirst))
	}
	if e.mode == "preregistered" {
		must(e.t, copyFile(guardBin, e.path("nri/plugins/10-nri-guard")))
		conf := fmt.Sprintf("policy: %s\npolicyDir: %s\ndecisionLog: %s\nlogFile: %s\nrecordKey: %s\nlastGood: %s\nreloadInterval: 500ms\n",
			e.policy.File, e.policy.Dir, e.decisionLog(), e.path("nri-guard.log"), e.recordKey(), e.path("last-good"))
		e.writeFile("nri/conf.d/10-nri-guard.conf", conf)
	}
}

// recordKey is the key with which the plugin signs the decision records
// the wrapper verifies.
func (e *env) recordKey() string { return e.path("record.key") }

// runtimeBinary is what containerd runs as runc: the guard's runtime
// wrapper whenever the guard is attached.
func (e *env) runtimeBinary() string {
	if e.mode == "none" {
		return runcBin
	}
	return wrapperBin
}

func (e *env) writeFile(rel, content string) {
	must(e.t, os.WriteFile(e.path(rel), []byte(content), 0o644))
}

// hasValidator: containerd 2.2 brought NRI validation and the default
// validator; 2.0 and 2.1 know neither and reject the table.
func hasValidator(v string) bool {
	return !strings.HasPrefix(v, "v2.0.") && !strings.HasPrefix(v, "v2.1.")
}

// overlaid are the host directories containerd sees through overlays
// whose upper layers live in the root: it creates missing hostPath
// directories (/var/lib/rancher/k3s/..., /run/k3s/...) and those must not
// land on the machine.
var overlaid = []string{"/etc", "/var", "/run", "/opt"}

const namespaceScript = `set -e
for d in $DIRS; do
  [ -d "$d" ] || continue
  up="$ROOT/ov$d"
  mkdir -p "$up/upper" "$up/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$up/upper,workdir=$up/work" "$d"
done
echo ready
exec "$PAUSE"`

// startNamespace starts the process that owns the environment's private
// mount namespace. containerd (also when restarted), its shims and the
// plugins it starts all live in it; when the last of them exits, the
// overlays and every mount containerd made vanish with it.
func (e *env) startNamespace() {
	for _, d := range overlaid {
		if strings.HasPrefix(e.root, d+"/") {
			e.t.Fatalf("temporary root %s lies under %s, which the suite overlays: set TMPDIR elsewhere", e.root, d)
		}
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", namespaceScript)
	cmd.Env = append(os.Environ(), "ROOT="+e.root, "DIRS="+strings.Join(overlaid, " "), "PAUSE="+pauseBin)
	out, err := cmd.StdoutPipe()
	must(e.t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	e.holder, err = testhost.Start("mount namespace", cmd)
	must(e.t, err)
	if err := testhost.WaitLine(out, "ready", 10*time.Second); err != nil {
		e.t.Fatalf("private mount namespace: %v: %s", err, stderr.String())
	}
}

// startContainerd runs containerd inside the environment's mount
// namespace with the shim on PATH, and waits until it serves CRI.
func (e *env) startContainerd() {
	cmd := e.inNamespace(filepath.Join(e.bin, "containerd"), "--config", e.path("config.toml"), "--log-level", "debug")
	// The shims inherit this environment and pass it to the wrapper.
	cmd.Env = append(os.Environ(), "PATH="+e.bin+":"+os.Getenv("PATH"), "NRI_GUARD_RUNTIME_CONFIG="+e.path("runtime.yaml"))
	logf, err := os.OpenFile(e.path("containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	must(e.t, err)
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	e.ctrd, err = testhost.Start("containerd", cmd)
	must(e.t, err)
	e.poll("containerd to serve CRI", 60*time.Second, func() bool {
		_, err := e.crictl("info")
		return err == nil
	})
}

func (e *env) stopContainerd() {
	if e.ctrd.Stop(syscall.SIGTERM, 20*time.Second) {
		e.t.Logf("containerd %s did not stop within 20s and was killed", e.version)
	}
}

// inNamespace is a command that runs in the environment's mount
// namespace.
func (e *env) inNamespace(name string, args ...string) *exec.Cmd {
	nsArg := fmt.Sprintf("--mount=/proc/%d/ns/mnt", e.holder.Pid())
	return exec.Command("nsenter", append([]string{nsArg, "--", name}, args...)...)
}

// startGuard runs nri-guard as an external plugin. It runs in the
// environment's mount namespace too, so that a default path it might
// still write to (/etc/nri-guard, /var/log/nri-guard) stays off the
// machine.
func (e *env) startGuard() {
	cmd := e.inNamespace(guardBin, "run", "--policy", e.policy.File, "--record-key", e.recordKey(),
		"--last-good", e.path("last-good"), "--reload-interval", "500ms",
		"--socket", e.path("nri.sock"), "--decision-log", e.decisionLog(), "--log-file", e.path("nri-guard.log"),
		"--metrics", "unix:"+e.metricsSocket())
	if e.policy.Dir != "" {
		cmd.Args = append(cmd.Args, "--policy-dir", e.policy.Dir)
	}
	e.guard = e.startLogged("nri-guard", cmd)
}

func (e *env) metricsSocket() string { return e.path("metrics.sock") }

// startLogged starts an external plugin with its output in the root.
func (e *env) startLogged(name string, cmd *exec.Cmd) *testhost.Proc {
	out, err := os.OpenFile(e.path(name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	must(e.t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	p, err := testhost.Start(name, cmd)
	must(e.t, err)
	return p
}

func (e *env) stopGuard(sig syscall.Signal) {
	e.guard.Stop(sig, 10*time.Second)
}

// importImages loads the e2e pause and busybox images.
func (e *env) importImages() {
	for _, img := range append([]string{pauseImage, busyboxImage}, k3sImages...) {
		out, err := exec.Command(filepath.Join(e.bin, "ctr"), "--address", e.path("containerd.sock"), "-n", "k8s.io", "images", "import", img).CombinedOutput()
		if err != nil {
			e.t.Fatalf("importing %s: %v\n%s", img, err, out)
		}
	}
}

// waitGuarded waits until creations pass through the guard: a probe
// container's creation is in the decision log (created or refused, so a
// strict policy does not stall it). Without a guard there is nothing to
// wait for.
func (e *env) waitGuarded() {
	if e.mode == "none" {
		return
	}
	e.poll("nri-guard to guard creations", 30*time.Second, func() bool {
		p := e.newPod("probe", fmt.Sprintf("probe-%d", time.Now().UnixNano()), false)
		defer p.remove()
		p.create(map[string]any{})
		return len(e.decisionsFor(p.name)) > 0
	})
}

// close tears the environment down: pods, plugins, containerd, shims,
// the mount namespace, cgroups, the bridge and the root. report gets
// anything that had to be removed by force: a leak is a failure.
func (e *env) close(report func(string, ...any)) {
	e.closeOnce.Do(func() {
		e.removePods(report)
		for _, p := range append([]*testhost.Proc{e.guard}, e.plugins...) {
			p.Stop(syscall.SIGTERM, 10*time.Second)
		}
		if e.ctrd.Stop(syscall.SIGTERM, 20*time.Second) {
			report("teardown: containerd %s did not stop within 20s and was killed", e.version)
		}
		// Shims exit once their pods are gone; give them a moment.
		pollUntil(10*time.Second, func() bool { return len(testhost.PidsWithArg(e.root)) == 0 })
		e.holder.Stop(syscall.SIGTERM, 5*time.Second)
		if found := removeLeftovers(e.root, e.token); len(found) > 0 {
			failed.Add(1)
			report("teardown of containerd %s (%s) left %s", e.version, e.root, strings.Join(found, "; "))
		}
		if os.Getenv("NRI_GUARD_E2E_KEEP") != "" {
			fmt.Printf("e2e: kept %s\n", e.root)
			return
		}
		os.RemoveAll(e.root)
	})
}

// removePods removes every pod while containerd still serves. A second
// pass catches pods whose creation was in flight during the first (an
// interrupted run).
func (e *env) removePods(report func(string, ...any)) {
	if e.ctrd == nil || e.ctrd.Exited() {
		return
	}
	for range 3 {
		if _, err := e.crictl("rmp", "-fa"); err != nil {
			report("teardown %s: %v", e.version, err)
			return
		}
		if out, err := e.crictl("pods", "-q"); err == nil && out == "" {
			return
		}
	}
}

// crictl runs crictl against this containerd.
func (e *env) crictl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, crictlBin, append([]string{"--config", e.crictlCfg}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// poll waits for ok, failing the test with the logs' tails after limit or
// as soon as containerd has exited; a detail says, on failure, what the
// wait saw last.
func (e *env) poll(what string, limit time.Duration, ok func() bool, detail ...func() string) {
	e.t.Helper()
	var dead bool
	if pollUntil(limit, func() bool { dead = e.ctrd != nil && e.ctrd.Exited(); return dead || ok() }) && !dead {
		return
	}
	reason := "timed out after " + limit.String()
	if dead {
		reason = fmt.Sprintf("containerd exited (%v)", e.ctrd.Err)
	}
	for _, d := range detail {
		reason += "; " + d()
	}
	e.t.Fatalf("%s waiting for %s; containerd log tail:\n%s\nnri-guard log tail:\n%s",
		reason, what, tail(e.path("containerd.log"), 15), tail(e.path("nri-guard.log"), 10))
}

// decisionsFor returns the decision log records of one pod.
func (e *env) decisionsFor(pod string) []map[string]any {
	return e.decisionsWhere("pod", pod)
}

// decisionsWhere returns the decision log records whose field has this
// value.
func (e *env) decisionsWhere(field, value string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(readFile(e.decisionLog()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec[field] == value {
			out = append(out, rec)
		}
	}
	return out
}
