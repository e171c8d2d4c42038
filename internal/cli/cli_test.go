package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/internal/judged"
	"github.com/nri-guard/nri-guard/internal/nriplugin"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/reload"
	"github.com/nri-guard/nri-guard/internal/runcstate"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const basePolicy = "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"

const spec = `{"ociVersion":"1.2.0",
 "root":{"path":"rootfs","readonly":true},
 "process":{"cwd":"/","noNewPrivileges":true,"user":{"uid":0,"gid":0},"capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"]}},
 "mounts":[{"destination":"/h","type":"bind","source":"/","options":["rbind","rw"]}],
 "annotations":{"io.kubernetes.cri.container-name":"c1","io.kubernetes.cri.sandbox-name":"p1","io.kubernetes.cri.sandbox-namespace":"default"},
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"network"}],"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"},
  "maskedPaths":["/proc/acpi","/proc/asound","/proc/interrupts","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/sys/firmware","/sys/devices/virtual/powercap","/proc/scsi"],
  "readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}`

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy)
	specFile := writeFile(t, dir, "config.json", spec)
	code, out, _ := run(t, "check", "--policy", pol, "--policy-dir", "", specFile)
	if code != 1 || !strings.Contains(out, "nri-guard: refused default/p1/c1: host-mounts: mounts[/h].source = /: is /") {
		t.Fatalf("refused spec: exit %d\n%s", code, out)
	}
	// A drop-in allows / for this pod: the same spec is now allowed.
	writeFile(t, dir, "policy.d/50-allow.yaml", basePolicy+"exceptions:\n  - name: p1\n    match: {pods: [p1]}\n    controls: {hostMounts: {allow: [/]}}\n")
	code, out, _ = run(t, "check", "--policy", pol, "--policy-dir", filepath.Join(dir, "policy.d"), specFile)
	if code != 0 || !strings.Contains(out, "exception: p1") || !strings.Contains(out, "ALLOW") {
		t.Fatalf("allowed spec: exit %d\n%s", code, out)
	}
	code, _, errOut := run(t, "check", "--policy", pol, "--policy-dir", "", writeFile(t, dir, "bad.json", "{\n  \"ociVersion\": 1\n}"))
	if code != 2 || !strings.Contains(errOut, "bad.json:2:") || !strings.Contains(errOut, "ociVersion") {
		t.Fatalf("bad input: exit %d: %s", code, errOut)
	}
	code, _, errOut = run(t, "check", "--policy", writeFile(t, dir, "bad.yaml", basePolicy+"controls:\n  seccomp: {mod: off}\n"), "--policy-dir", "", specFile)
	if code != 2 || !strings.Contains(errOut, "bad.yaml:4:13: controls.seccomp.mod: unknown field") {
		t.Fatalf("bad policy: exit %d: %s", code, errOut)
	}
}

func TestCheckFlagsOverrideTheSpec(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy+"exceptions:\n  - name: monitoring\n    match: {namespaces: [monitoring], labels: {app: agent}}\n    controls: {hostMounts: {mode: audit}}\n")
	specFile := writeFile(t, dir, "config.json", spec)
	code, out, _ := run(t, "check", "--policy", pol, "--policy-dir", "", "--namespace", "monitoring", "--label", "app=agent", specFile)
	if code != 0 || !strings.Contains(out, "container: monitoring/p1/c1") || !strings.Contains(out, "AUDIT") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestRunRefusesABadPolicyWithTheExactError(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy+"defaultMode: strict\n")
	status := filepath.Join(dir, "status.json")
	code, _, errOut := run(t, "run", "--policy", pol, "--policy-dir", "", "--socket", filepath.Join(dir, "none.sock"), "--decision-log", filepath.Join(dir, "d.log"), "--status-file", status)
	want := `policy.yaml:3:14: defaultMode: unknown value "strict"; want one of: enforce, audit, off`
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, out, _ := run(t, "status", "--status-file", status, "--socket", filepath.Join(dir, "none.sock"), "--runc-roots", filepath.Join(dir, "no-runc")); code != 1 || !strings.Contains(out, "no policy in force") || !strings.Contains(out, want) {
		t.Fatalf("status of a plugin that did not start: exit %d\n%s", code, out)
	}
}

func TestPolicyShow(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy+"controls:\n  hostMounts:\n    action: drop\n")
	code, out, _ := run(t, "policy", "show", "--policy", pol, "--policy-dir", "", "--for", "default/web/app")
	if code != 0 || !regexpMatch(out, `action: drop\s+# .*policy.yaml:5`) || !strings.Contains(out, "no exception matches") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := run(t); code != 2 {
		t.Fatal("no arguments outside containerd must be a usage error")
	}
	if code, _, errOut := run(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatal(errOut)
	}
}

func TestPreRegisteredConfig(t *testing.T) {
	cfg, err := parsePreRegisteredConfig("policy: /x.yaml\ndecisionLog: /d.jsonl\n")
	if err != nil || cfg.Policy != "/x.yaml" || cfg.DecisionLog != "/d.jsonl" || cfg.PolicyDir != DefaultPolicyDir {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := parsePreRegisteredConfig("polcy: /x.yaml\n"); err == nil || !strings.Contains(err.Error(), "field polcy not found") {
		t.Fatalf("typo in the conf file must be an error, got %v", err)
	}
}

func regexpMatch(s, pattern string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}

func TestPreRegisteredConfigDurations(t *testing.T) {
	cfg, err := parsePreRegisteredConfig("reloadInterval: 500ms\nlastGood: /x\n")
	if err != nil || cfg.ReloadInterval.Milliseconds() != 500 || cfg.LastGood != "/x" {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestInstallCommand(t *testing.T) {
	root, bin := t.TempDir(), t.TempDir()
	writeFile(t, root, "var/lib/rancher/k3s/agent/etc/containerd/config.toml", "version = 3\n")
	writeFile(t, bin, "nri-guard", "guard")
	writeFile(t, bin, "nri-guard-runc", "wrapper")
	args := []string{"k3s", "--root", root, "--from", bin, "--runc", "/usr/bin/runc", "--containerd-version", "v2.4.2", "--mode", "enforce"}
	code, out, errOut := run(t, append([]string{"install"}, append(args, "--dry-run")...)...)
	if code != 0 || !strings.Contains(out, "dry run: nothing was changed") || !strings.Contains(out, "config-v3.toml.tmpl") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = run(t, append([]string{"install"}, args...)...); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = run(t, "uninstall", "k3s", "--root", root); code != 0 || !strings.Contains(out, "Restart K3s now") {
		t.Fatalf("uninstall: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut = run(t, "install", "k8s"); code != 2 || !strings.Contains(errOut, "K3s is the only target") {
		t.Fatalf("unknown target: exit %d: %s", code, errOut)
	}
	if code, _, errOut = run(t, "uninstall", "k3s", "--root", root); code != 1 || !strings.Contains(errOut, "nothing to uninstall") {
		t.Fatalf("second uninstall: exit %d: %s", code, errOut)
	}
}

func TestStatusReportsABadDropIn(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy)
	dropIns := filepath.Join(dir, "policy.d")
	must(t, os.Mkdir(dropIns, 0o755))
	path := filepath.Join(dir, "status.json")
	status := reload.NewStatusFile(path, pol, dropIns)
	loaded, err := policy.Load(pol, dropIns)
	if err != nil {
		t.Fatal(err)
	}
	must(t, status.Loaded(loaded))
	must(t, status.Connected("containerd v2.2.9 (NRI v0.11.0)"))
	// No runc root holds containers here: the node's own are not this
	// test's business.
	run := func(t *testing.T, args ...string) (int, string, string) {
		return run(t, append(args, "--runc-roots", filepath.Join(dir, "no-runc"), "--judged-dir", filepath.Join(dir, "judged"), "--socket", filepath.Join(dir, "none.sock"))...)
	}
	if code, out, _ := run(t, "status", "--status-file", path); code != 0 || !strings.Contains(out, "connected to containerd v2.2.9") || !strings.Contains(out, "on disk are the policy in force") || !strings.Contains(out, "from the status file") {
		t.Fatalf("healthy: exit %d\n%s", code, out)
	}
	// Not looked at by the plugin yet: the files on disk tell.
	writeFile(t, dir, "policy.d/60-broken.yaml", basePolicy+"defaultMode: loud\n")
	if code, out, _ := run(t, "status", "--status-file", path); code != 1 || !strings.Contains(out, "60-broken.yaml:3:14: defaultMode: unknown value") {
		t.Fatalf("broken on disk: exit %d\n%s", code, out)
	}
	// The plugin's reload failed: the status says so, with file and line.
	_, err = policy.Load(pol, dropIns)
	must(t, status.Failed(err))
	code, out, _ := run(t, "status", "--status-file", path)
	if code != 1 || !strings.Contains(out, "the last policy change did NOT load") || !strings.Contains(out, "60-broken.yaml:3:14") {
		t.Fatalf("broken reload: exit %d\n%s", code, out)
	}
	// Fixed with a change that loads: all well again.
	writeFile(t, dir, "policy.d/60-broken.yaml", basePolicy+"defaultMode: audit\n")
	loaded, err = policy.Load(pol, dropIns)
	must(t, err)
	must(t, status.Loaded(loaded))
	if code, out, _ := run(t, "status", "--status-file", path); code != 0 {
		t.Fatalf("fixed: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "status", "--status-file", filepath.Join(dir, "none.json")); code != 2 || !strings.Contains(out, "not running") {
		t.Fatalf("no status: exit %d\n%s", code, out)
	}
}

// TestStatusNamesUnjudgedContainers: a running container under a runc
// root that the wrapper never marked (created with ctr, or under another
// runtime) is named, and status is not healthy.
func TestStatusNamesUnjudgedContainers(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy)
	path := filepath.Join(dir, "status.json")
	status := reload.NewStatusFile(path, pol, "")
	loaded, err := policy.Load(pol, "")
	must(t, err)
	must(t, status.Loaded(loaded))
	must(t, status.Connected("containerd v2.4.2 (NRI v0.12.3)"))
	start, err := runcstate.ProcessStart(os.Getpid())
	must(t, err)
	// This test process stands in for the container's init process.
	state := fmt.Sprintf(`{"id":"made-by-ctr","init_process_pid":%d,"init_process_start":%d,"config":{"labels":["bundle=/run/ctr/made-by-ctr"]}}`, os.Getpid(), start)
	writeFile(t, dir, "runc/default/made-by-ctr/state.json", state)
	args := []string{"status", "--status-file", path, "--runc-roots", filepath.Join(dir, "runc", "*"), "--judged-dir", filepath.Join(dir, "judged")}
	code, out, _ := run(t, args...)
	if code != 1 || !strings.Contains(out, "1 running container(s) were NOT judged") || !strings.Contains(out, "made-by-ctr (runc root "+filepath.Join(dir, "runc", "default")) {
		t.Fatalf("unjudged container: exit %d\n%s", code, out)
	}
	must(t, judged.Write(filepath.Join(dir, "judged"), "made-by-ctr", judged.Mark{Root: filepath.Join(dir, "runc", "default")}))
	if code, out, _ := run(t, args...); code != 0 || !strings.Contains(out, "every running container was judged") {
		t.Fatalf("judged container: exit %d\n%s", code, out)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatusAsksTheRunningPlugin: with the plugin's status socket up,
// status answers from it (counts, refusals, whether it is connected), and
// --json carries the same.
func TestStatusAsksTheRunningPlugin(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policy.yaml", basePolicy)
	status := reload.NewStatusFile(filepath.Join(dir, "status.json"), pol, "")
	loaded, err := policy.Load(pol, "")
	must(t, err)
	must(t, status.Loaded(loaded))
	p := nriplugin.New(nriplugin.Options{Index: "10"})
	socket := filepath.Join(dir, "run", "status.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serveStatus(ctx, socket, p, func() *reload.StatusFile { return status })
	args := []string{"status", "--socket", socket, "--status-file", filepath.Join(dir, "status.json"), "--runc-roots", filepath.Join(dir, "no-runc"), "--judged-dir", filepath.Join(dir, "judged")}
	var code int
	var out string
	for i := 0; i < 50; i++ { // the server starts in the background
		if code, out, _ = run(t, args...); strings.Contains(out, "from the live") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Never connected to a runtime here: degraded, and it says so.
	if code != 1 || !strings.Contains(out, "from the live") || !strings.Contains(out, "NOT connected to the runtime") {
		t.Fatalf("live status: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append(args, "--json")...)
	var report statusReport
	if err := json.Unmarshal([]byte(out), &report); err != nil || code != 1 || report.Health != "degraded" || report.Live == nil || report.Policy.Fingerprint == "" {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if fi, err := os.Stat(socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the status socket is not root-only: %v %v", fi.Mode(), err)
	}
}
