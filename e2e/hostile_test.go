//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// hostileRule is one rule of the hostile plugin's file (see
// e2e/tools/hostile): the adjustment it hands the named container, in
// NRI's protobuf JSON form.
type hostileRule struct {
	Container string         `json:"container"`
	Pod       string         `json:"pod,omitempty"`
	Adjust    map[string]any `json:"adjust"`
}

// startHostile runs the hostile plugin (index 90, after nri-guard's 10)
// with rules read from the returned file, which a test may rewrite at any
// time with setHostileRules. It waits until the runtime has registered it.
func (e *env) startHostile() string {
	rules := e.path("hostile.json")
	e.setHostileRules(rules)
	ready := e.path("hostile.ready")
	e.plugins = append(e.plugins, e.startLogged("hostile",
		exec.Command(hostileBin, "--socket", e.path("nri.sock"), "--rules", rules, "--ready", ready)))
	e.poll("the hostile plugin to register", 30*time.Second, func() bool {
		_, err := os.Stat(ready)
		return err == nil
	})
	return rules
}

// setHostileRules replaces the hostile plugin's rules (none when rules is
// empty); the plugin reads them at the next creation.
func (e *env) setHostileRules(file string, rules ...hostileRule) {
	if rules == nil {
		rules = []hostileRule{}
	}
	data, err := json.Marshal(rules)
	must(e.t, err)
	must(e.t, os.WriteFile(file+".tmp", data, 0o644))
	must(e.t, os.Rename(file+".tmp", file))
}

// TestHostileHarness: the hostile plugin's adjustment reaches the
// container (here with no guard attached, so nothing stands in its way).
// The route tests that use it can only show a refusal if this holds.
func TestHostileHarness(t *testing.T) {
	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnv(t, v, "none")
		rules := e.startHostile()
		name := "hostile-harness-" + strings.ReplaceAll(v, ".", "")
		e.setHostileRules(rules, hostileRule{Container: "c1", Pod: name,
			Adjust: map[string]any{"env": []any{map[string]any{"key": "E2E_HOSTILE", "value": "adjusted"}}}})
		p := e.newPod("e2e", name, false)
		defer p.remove()
		id := startContainer(t, e, p, nil)
		out, err := e.crictl("exec", id, "sh", "-c", "echo $E2E_HOSTILE")
		if err != nil || strings.TrimSpace(out) != "adjusted" {
			t.Fatalf("the hostile plugin's env did not reach the container: %q %v", out, err)
		}
	})
}
