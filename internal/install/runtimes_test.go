package install

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/wrapper"
	"gopkg.in/yaml.v3"
)

func k3sRuntimesConfig(t *testing.T) string {
	data, err := os.ReadFile("testdata/k3s-runtimes.toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestReadRuntimesOfK3sConfig(t *testing.T) {
	rts, def, err := readRuntimes("config.toml", []byte(k3sRuntimesConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rts {
		got = append(got, r.Name+"|"+r.Type+"|"+r.BinaryName)
	}
	want := []string{
		"runc|io.containerd.runc.v2|",
		"crun|io.containerd.runc.v2|/usr/bin/crun",
		"nvidia|io.containerd.runc.v2|/usr/local/nvidia/toolkit/nvidia-container-runtime",
		"nvidia-experimental|io.containerd.runc.v2|/usr/local/nvidia/toolkit/nvidia-container-runtime-experimental",
		"spin|io.containerd.spin.v2|/usr/bin/containerd-shim-spin-v1",
		"wasmtime|io.containerd.wasmtime.v2|/opt/kwasm/bin/containerd-shim-wasmtime-v1",
		"kata|io.containerd.kata.v2|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || def != "" {
		t.Fatalf("runtimes:\n%s\ndefault %q", strings.Join(got, "\n"), def)
	}
	// K3s's --default-runtime.
	_, def, _ = readRuntimes("c", []byte("[plugins.'io.containerd.cri.v1.runtime'.containerd]\n  default_runtime_name = \"crun\"\n"))
	if def != "crun" {
		t.Fatalf("default %q", def)
	}
}

func TestReadRuntimesBadInput(t *testing.T) {
	for text, want := range map[string]string{
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'crun'.options]\n  BinaryName = /usr/bin/crun\n": `c.toml:2: BinaryName: want a quoted string, got /usr/bin/crun`,
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'crun]\n":                                        `c.toml:1: unterminated quote`,
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun.options]\n  BinaryName = \"\"\"/x\"\"\"\n":  `c.toml:2: BinaryName: want a quoted string`,
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun]\n  options = { BinaryName = \"/x\" }\n}\n": `c.toml:3: cannot read this line of runtime "crun"'s table`,
	} {
		if _, _, err := readRuntimes("c.toml", []byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
	}
}

// TestInstallWrapsEveryRuncCompatibleRuntime installs onto a node whose
// K3s found crun, nvidia's runtimes, two wasm shims and kata.
func TestInstallWrapsEveryRuncCompatibleRuntime(t *testing.T) {
	n := newFakeNode(t, true)
	n.write(renderedConfig, k3sRuntimesConfig(t), 0o600)
	before := n.tree(false)
	n.install(ModeEnforce)
	mustContain(t, "output", n.out.String(),
		"runtime crun (io.containerd.runc.v2): wrapped too, by "+guardDir+"/bin/nri-guard-runc-crun, which runs /usr/bin/crun",
		"runtime nvidia-experimental (io.containerd.runc.v2): wrapped too",
		"runtime spin (io.containerd.spin.v2): not runc-compatible, left as it is; its pods are REFUSED unless you list spin in runtimeHandlers.isolated",
		"runtime kata (io.containerd.kata.v2): not runc-compatible")
	drop := n.read(dropInFile)
	for _, h := range []string{"crun", "nvidia", "nvidia-experimental"} {
		mustContain(t, "the drop-in", drop, "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'"+h+"'.options]\n  BinaryName = '"+guardDir+"/bin/nri-guard-runc-"+h+"'")
		if n.read(guardDir+"/bin/nri-guard-runc-"+h) != "binary nri-guard-runc" {
			t.Fatalf("no wrapper for %s", h)
		}
	}
	for _, h := range []string{"spin", "wasmtime", "kata"} {
		if strings.Contains(drop, "'"+h+"'") {
			t.Fatalf("the drop-in touches %s:\n%s", h, drop)
		}
	}
	// The wrapper's configuration maps each wrapper to its real binary,
	// and the wrapper's own decoder takes it.
	var cfg wrapper.Config
	dec := yaml.NewDecoder(strings.NewReader(n.read(runtimeConfig)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Runc != bundledRunc || cfg.Handlers["crun"] != "/usr/bin/crun" || cfg.Handlers["nvidia"] != "/usr/local/nvidia/toolkit/nvidia-container-runtime" || len(cfg.Handlers) != 3 {
		t.Fatalf("runtime.yaml: %+v", cfg)
	}
	// The policy guards what was wrapped, and nothing else.
	rh := loadPolicy(t, n).Controls.RuntimeHandlers
	if got := flowOf(rh.Guarded.Value); got != `["", runc, crun, nvidia, nvidia-experimental]` || len(rh.Isolated.Value) != 0 {
		t.Fatalf("guarded %s isolated %v", got, rh.Isolated.Value)
	}
	mustContain(t, "the policy", n.read(policyFile), "# Not wrapped: spin (io.containerd.spin.v2)", "# Not wrapped: kata (io.containerd.kata.v2)")
	// Uninstall puts every runtime back as K3s configured it.
	n.uninstall()
	sameTree(t, "uninstall", before, n.tree(false))
}

func flowOf(hs []policy.RuntimeHandler) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func TestInstallGuardsTheDefaultRuntimeOnlyWhenWrapped(t *testing.T) {
	for def, want := range map[string]string{
		"crun": `["", runc, crun]`, // K3s --default-runtime crun: wrapped, so "" is guarded
		"spin": `[runc, crun]`,     // a pod without a RuntimeClass runs a wasm shim: refused
	} {
		n := newFakeNode(t, true)
		n.write(renderedConfig, k3sImports+k3sConfig+"\n[plugins.'io.containerd.cri.v1.runtime'.containerd]\n  default_runtime_name = \""+def+"\"\n"+
			"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'crun']\n  runtime_type = \"io.containerd.runc.v2\"\n"+
			"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'crun'.options]\n  BinaryName = \"/usr/bin/crun\"\n"+
			"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'spin']\n  runtime_type = \"io.containerd.spin.v2\"\n", 0o600)
		n.install(ModeEnforce)
		if got := flowOf(loadPolicy(t, n).Controls.RuntimeHandlers.Guarded.Value); got != want {
			t.Errorf("default %s: guarded %s, want %s", def, got, want)
		}
	}
}

func TestInstallRefusesARuntimeItCannotWrap(t *testing.T) {
	table := "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'crun']\n  runtime_type = \"io.containerd.runc.v2\"\n" +
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.'crun'.options]\n"
	line := strings.Count(k3sImports+k3sConfig, "\n") + 1
	for binary, want := range map[string]string{
		"":                                     `runtime "crun" has no BinaryName`,
		`  BinaryName = "crun"`:                `runtime "crun": BinaryName "crun" is not an absolute path`,
		`  BinaryName = "/opt/nri-guard-runc"`: `runtime "crun" already runs a runtime wrapper (/opt/nri-guard-runc)`,
	} {
		n := newFakeNode(t, true)
		n.write(renderedConfig, k3sImports+k3sConfig+table+binary+"\n", 0o600)
		before := n.tree(false)
		err := Install(n.options(ModeEnforce))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), renderedConfig+":"+strconv.Itoa(line)+":") {
			t.Errorf("BinaryName %q: %v, want %s at line %d", binary, err, want, line)
		}
		sameTree(t, "a refused install", before, n.tree(false))
	}
}
