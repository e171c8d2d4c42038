//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNRIView records what an NRI plugin is shown at CreateContainer on
// each containerd version, with no guard attached: which of the fields
// nri-guard judges are filled (seccomp profile and policy, sysctls,
// image, user). It fails only if the dump plugin sees nothing; the log is
// the result.
func TestNRIView(t *testing.T) {
	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnv(t, v, "none")
		dump := e.startDump()
		seen := e.createViewContainers()
		for _, name := range viewContainerNames {
			rec, ok := dumpRecord(dump, seen[name])
			if !ok {
				t.Errorf("%s: the dump plugin did not see container %s", v, name)
				continue
			}
			t.Logf("containerd %s, %-15s %s", v, name+":", describeView(rec))
		}
	})
}

var viewContainerNames = []string{"plain", "runtime-default", "unconfined", "run-as-user", "pod-sysctl"}

// startDump runs the nridump plugin and waits until creations reach it.
func (e *env) startDump() string {
	out := e.path("nridump.jsonl")
	e.plugins = append(e.plugins, e.startLogged("nridump", exec.Command(nridumpBin, "--socket", e.path("nri.sock"), "--out", out)))
	e.poll("nridump to see creations", 30*time.Second, func() bool {
		p := e.newPod("probe", fmt.Sprintf("probe-%d", time.Now().UnixNano()), false)
		defer p.remove()
		id, err := p.create(map[string]any{})
		_, ok := dumpRecord(out, id)
		return err == nil && ok
	})
	return out
}

// createViewContainers creates the containers whose NRI view is logged
// and returns their IDs by name.
func (e *env) createViewContainers() map[string]string {
	suffix := strings.ReplaceAll(strings.TrimPrefix(e.version, "v"), ".", "")
	plain := e.newPod("nriview", "nriview-"+suffix, false)
	sysctlPod := e.newPod("nriview", "nriview-sysctl-"+suffix, false,
		map[string]any{"linux": map[string]any{"sysctls": map[string]any{"kernel.msgmax": "65536"}}})
	ids := map[string]string{}
	for _, c := range []struct {
		name  string
		pod   *pod
		extra map[string]any
	}{
		{"plain", plain, nil},
		{"runtime-default", plain, securityContext(map[string]any{"seccomp": map[string]any{"profile_type": 0}})},
		{"unconfined", plain, securityContext(map[string]any{"seccomp": map[string]any{"profile_type": 1}})},
		{"run-as-user", plain, securityContext(map[string]any{"run_as_user": map[string]any{"value": 1000}})},
		{"pod-sysctl", sysctlPod, nil},
	} {
		extra := merge(map[string]any{"metadata": map[string]any{"name": c.name}, "log_path": c.name + ".log"}, c.extra)
		id, err := c.pod.create(extra)
		must(e.t, err)
		ids[c.name] = id
	}
	return ids
}

func securityContext(sc map[string]any) map[string]any {
	return map[string]any{"linux": map[string]any{"security_context": sc}}
}

// dumpRecord finds the dump line of one container.
func dumpRecord(file, id string) (map[string]any, bool) {
	for _, line := range strings.Split(readFile(file), "\n") {
		var rec map[string]any
		if id != "" && json.Unmarshal([]byte(line), &rec) == nil && rec["event"] == "create" {
			if ctr, _ := rec["container"].(map[string]any); ctr["id"] == id {
				return ctr, true
			}
		}
	}
	return nil, false
}

// describeView summarizes the fields nri-guard cares about; "-" is a
// field the runtime left empty.
func describeView(ctr map[string]any) string {
	linux, _ := ctr["linux"].(map[string]any)
	return fmt.Sprintf("seccomp_profile=%s seccomp_policy=%s sysctl=%s image=%s user=%s rlimits=%s",
		profileType(linux["seccomp_profile"]), seccompPolicy(linux["seccomp_policy"]),
		jsonText(linux["sysctl"]), imageName(ctr["image"]), jsonText(ctr["user"]), jsonText(ctr["rlimits"]))
}

// profileType names NRI's SecurityProfile type; encoding/json drops the
// zero value, RUNTIME_DEFAULT.
func profileType(v any) string {
	p, ok := v.(map[string]any)
	if !ok {
		return "-"
	}
	name := map[float64]string{0: "RUNTIME_DEFAULT", 1: "UNCONFINED", 2: "LOCALHOST"}
	t, _ := p["profile_type"].(float64)
	if ref, ok := p["localhost_ref"]; ok {
		return name[t] + ":" + fmt.Sprint(ref)
	}
	return name[t]
}

func seccompPolicy(v any) string {
	sp, ok := v.(map[string]any)
	if !ok {
		return "-"
	}
	calls, _ := sp["syscalls"].([]any)
	return fmt.Sprintf("{default_action:%v, %d rules}", sp["default_action"], len(calls))
}

func imageName(v any) string {
	img, ok := v.(map[string]any)
	if !ok {
		return "-"
	}
	return fmt.Sprint(img["name"])
}

func jsonText(v any) string {
	if v == nil {
		return "-"
	}
	data, _ := json.Marshal(v)
	return string(data)
}
