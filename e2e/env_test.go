//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// env is one real containerd (its own sockets, state and mount namespace
// under a temporary root) with nri-guard attached.
type env struct {
	t        testing.TB
	version  string
	mode     string // external | preregistered
	root     string
	bin      string // containerd binaries
	ctrd     *exec.Cmd
	ctrdDone chan error
	guard    *exec.Cmd
	// guardDone is closed when the external guard process exits.
	guardDone chan struct{}
	crictlCfg string
}

func (e *env) path(parts ...string) string {
	return filepath.Join(append([]string{e.root}, parts...)...)
}

func (e *env) decisionLog() string { return e.path("decisions.jsonl") }

// newEnv starts containerd version v with nri-guard in mode. Everything
// is torn down by t.Cleanup, also when the test fails.
func newEnv(t testing.TB, v, mode string) *env {
	t.Helper()
	root, err := os.MkdirTemp("", "nrig-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, version: v, mode: mode, root: root, bin: filepath.Join(cacheDir, "containerd-"+v)}
	t.Cleanup(e.close)
	registerCleanup(e.close)
	e.writeConfig()
	if mode == "external" {
		e.startGuard()
	}
	e.startContainerd()
	e.importImages()
	e.waitGuarded()
	return e
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
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '{{.Runc}}'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni']
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
    [plugins.'io.containerd.nri.v1.nri'.default_validator]
      enable = true
      required_plugins = ['nri-guard']
{{- end}}
`))

// An isolated bridge: no address on the host, no gateway, no masquerade,
// addresses from the benchmarking range; pods can reach nothing.
const cniConfig = `{"cniVersion": "1.0.0", "name": "nrig", "plugins": [
  {"type": "bridge", "bridge": "nrig0", "isGateway": false, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "198.18.0.0/24"}]], "dataDir": "%s"}},
  {"type": "loopback"}]}`

func (e *env) writeConfig() {
	for _, d := range []string{"cni", "nri/plugins", "nri/conf.d", "logs", "ov"} {
		must(e.t, os.MkdirAll(e.path(d), 0o755))
	}
	var cfg bytes.Buffer
	must(e.t, containerdConfig.Execute(&cfg, map[string]any{
		"Root": e.root, "Runc": runcBin, "Validator": hasValidator(e.version),
	}))
	must(e.t, os.WriteFile(e.path("config.toml"), cfg.Bytes(), 0o644))
	must(e.t, os.WriteFile(e.path("cni", "10-nrig.conflist"), []byte(fmt.Sprintf(cniConfig, e.path("cni-ipam"))), 0o644))
	e.crictlCfg = e.path("crictl.yaml")
	must(e.t, os.WriteFile(e.crictlCfg, []byte(fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 20\n", e.path("containerd.sock"), e.path("containerd.sock"))), 0o644))
	if e.mode == "preregistered" {
		must(e.t, copyFile(guardBin, e.path("nri/plugins/10-nri-guard")))
		conf := fmt.Sprintf("policy: %s\npolicyDir: %s\ndecisionLog: %s\nlogFile: %s\n", policyFile, policyDir, e.decisionLog(), e.path("nri-guard.log"))
		must(e.t, os.WriteFile(e.path("nri/conf.d/10-nri-guard.conf"), []byte(conf), 0o644))
	}
}

// hasValidator: containerd 2.2 brought NRI validation and the default
// validator; 2.0/2.1 know neither.
func hasValidator(v string) bool {
	return !strings.HasPrefix(v, "v2.0.") && !strings.HasPrefix(v, "v2.1.")
}

// startContainerd runs containerd in its own mount namespace with
// overlays over /var and /run: containerd creates missing hostPath
// directories (/var/lib/rancher/k3s, /run/k3s/...) and those must not
// land on the machine. Everything vanishes with the namespace.
func (e *env) startContainerd() {
	script := `set -e
for d in var run; do
  mkdir -p "$ROOT/ov/$d/up" "$ROOT/ov/$d/work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$ROOT/ov/$d/up,workdir=$ROOT/ov/$d/work" "/$d"
done
exec "$BIN/containerd" --config "$ROOT/config.toml" --log-level debug`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "ROOT="+e.root, "BIN="+e.bin, "PATH="+e.bin+":"+os.Getenv("PATH"))
	logf, err := os.Create(e.path("containerd.log"))
	must(e.t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(e.t, cmd.Start())
	e.ctrd, e.ctrdDone = cmd, make(chan error, 1)
	go func() { e.ctrdDone <- cmd.Wait(); logf.Close() }()
	e.poll("containerd to serve CRI", 60*time.Second, func() bool {
		_, err := e.crictl("info")
		return err == nil
	})
}

func (e *env) stopContainerd() {
	if e.ctrd == nil {
		return
	}
	e.ctrd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.ctrdDone:
	case <-time.After(20 * time.Second):
		e.ctrd.Process.Kill()
		<-e.ctrdDone
	}
	e.ctrd = nil
}

func (e *env) startGuard() {
	cmd := exec.Command(guardBin, "run", "--policy", policyFile, "--policy-dir", policyDir,
		"--socket", e.path("nri.sock"), "--decision-log", e.decisionLog(), "--log-file", e.path("nri-guard.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(e.t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	e.guard, e.guardDone = cmd, done
}

func (e *env) stopGuard(sig syscall.Signal) {
	if e.guard == nil {
		return
	}
	e.guard.Process.Signal(sig)
	<-e.guardDone
	e.guard = nil
}

// importImages loads the e2e pause and busybox images.
func (e *env) importImages() {
	for _, img := range []string{pauseImage, busyboxImage} {
		out, err := exec.Command(filepath.Join(e.bin, "ctr"), "--address", e.path("containerd.sock"), "-n", "k8s.io", "images", "import", img).CombinedOutput()
		if err != nil {
			e.t.Fatalf("importing %s: %v\n%s", img, err, out)
		}
	}
}

// waitGuarded waits until a probe container is created through the
// guard: the decision log records it.
func (e *env) waitGuarded() {
	e.poll("nri-guard to guard creations", 30*time.Second, func() bool {
		p := e.newPod("probe", fmt.Sprintf("probe-%d", time.Now().UnixNano()), false)
		defer p.remove()
		if _, err := p.create(map[string]any{}); err != nil {
			return false
		}
		return strings.Contains(readFile(e.decisionLog()), `"pod":"`+p.name+`"`)
	})
}

func (e *env) close() {
	if e.root == "" {
		return
	}
	e.crictl("rmp", "-fa")
	e.stopContainerd()
	e.stopGuard(syscall.SIGTERM)
	// Shims outlive containerd; rmp stopped their pods, so they exit, but
	// do not leave one behind if a pod was stuck.
	exec.Command("pkill", "-KILL", "-f", "containerd-shim-runc-v2 .*-address "+e.path("containerd.sock")).Run()
	exec.Command("ip", "link", "del", "nrig0").Run()
	if os.Getenv("NRI_GUARD_E2E_KEEP") == "" {
		os.RemoveAll(e.root)
	} else {
		e.t.Logf("kept %s", e.root)
	}
	e.root = ""
}

// crictl runs crictl against this containerd.
func (e *env) crictl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, crictlBin, append([]string{"--config", e.crictlCfg}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func (e *env) poll(what string, limit time.Duration, ok func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s; containerd log tail:\n%s\nnri-guard log tail:\n%s",
				limit, what, tail(e.path("containerd.log"), 15), tail(e.path("nri-guard.log"), 10))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// decisionsFor returns the decision log records of one pod.
func (e *env) decisionsFor(pod string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(readFile(e.decisionLog()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["pod"] == pod {
			out = append(out, rec)
		}
	}
	return out
}
