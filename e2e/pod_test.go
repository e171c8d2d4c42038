//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pod is one CRI pod sandbox created with crictl.
type pod struct {
	e    *env
	ns   string
	name string
	id   string
	dir  string
	// runErr is set when the sandbox itself could not be created.
	runErr error
}

// newPod runs a pod sandbox. extra is merged over the default pod config
// (crictl's JSON shape).
func (e *env) newPod(ns, name string, hostNetwork bool, extra ...map[string]any) *pod {
	p := &pod{e: e, ns: ns, name: name, dir: e.path("pods", name)}
	must(e.t, os.MkdirAll(p.dir, 0o755))
	cfg := map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": ns, "uid": name + "-uid", "attempt": 0},
		"log_directory": p.dir,
		// Each container gets its own PID namespace, as kubelet does
		// unless shareProcessNamespace is set: /proc/1 is the container's.
		"linux": merge(namespaceOptions(map[string]any{"pid": 1}),
			// Every container of the environment lands below one cgroup
			// parent, which teardown checks for leftover processes.
			map[string]any{"cgroup_parent": cgroupParent(e.token)}),
	}
	if hostNetwork {
		cfg = merge(cfg, map[string]any{"linux": namespaceOptions(map[string]any{"network": 2})})
	}
	for _, x := range extra {
		cfg = merge(cfg, x)
	}
	writeJSON(e.t, filepath.Join(p.dir, "pod.json"), cfg)
	p.id, p.runErr = e.crictl("runp", filepath.Join(p.dir, "pod.json"))
	return p
}

// create creates container c1 in the pod; extra is merged over the
// default container config. It returns the container ID or the error
// text the CRI client saw.
func (p *pod) create(extra map[string]any) (string, error) {
	if p.runErr != nil {
		return "", p.runErr
	}
	cfg := map[string]any{
		"metadata": map[string]any{"name": "c1"},
		"image":    map[string]any{"image": "localhost/e2e/busybox:1"},
		"command":  []any{"sleep", "3600"},
		"log_path": "c1.log",
		"linux": map[string]any{"security_context": map[string]any{
			"namespace_options": map[string]any{"pid": 1},
			// kubelet always sends the runtime's default masked and
			// read-only paths; crictl does not, so the suite does.
			"masked_paths":   kubeletMaskedPaths,
			"readonly_paths": kubeletReadonlyPaths,
		}},
	}
	cfg = merge(cfg, extra)
	writeJSON(p.e.t, filepath.Join(p.dir, "c1.json"), cfg)
	return p.e.crictl("create", p.id, filepath.Join(p.dir, "c1.json"), filepath.Join(p.dir, "pod.json"))
}

func (p *pod) remove() {
	if p.id != "" {
		p.e.crictl("rmp", "-f", p.id)
	}
}

// removeFully removes the pod, again while containerd still lists it
// (a removal can fail half-way), and fails the test if containerd never
// lets go of it.
func (p *pod) removeFully() {
	if p.id == "" {
		return
	}
	var last error
	p.e.poll("containerd to remove pod "+p.name, 60*time.Second, func() bool {
		if _, err := p.e.crictl("inspectp", p.id); err != nil && strings.Contains(err.Error(), "not found") {
			return true
		}
		_, last = p.e.crictl("rmp", "-f", p.id)
		if last != nil {
			p.e.t.Logf("removing pod %s: %v", p.name, last)
		}
		return false
	}, func() string { return fmt.Sprintf("the last removal said: %v", last) })
}

var (
	kubeletMaskedPaths = []any{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	kubeletReadonlyPaths = []any{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func namespaceOptions(opts map[string]any) map[string]any {
	return map[string]any{"security_context": map[string]any{"namespace_options": opts}}
}

// merge lays over onto base: maps merge key by key, anything else is
// replaced.
func merge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = merge(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

func writeJSON(t testingT, path string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	must(t, err)
	must(t, os.WriteFile(path, data, 0o644))
}
