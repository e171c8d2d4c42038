//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDecisionLogFullDisk: the decision log's filesystem fills up (a
// 64 KiB tmpfs in the environment). Containers are still judged, created
// and started; the runtime wrapper counts each line it could not write;
// once there is room again the next line written says how many lines
// were lost, the plugin's and the wrappers' together, and the wrappers'
// are marked as said.
func TestDecisionLogFullDisk(t *testing.T) {
	eachVersionOf(t, versions[:1], func(t *testing.T, e *env, tag string) {
		logfs := e.path("logfs")
		must(t, os.MkdirAll(logfs, 0o755))
		sh := func(script string) {
			t.Helper()
			if out, err := e.inNamespace("sh", "-c", script).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
		}
		// The log starts again, empty, on the small filesystem (an empty
		// file holds no page whose slack a line could still use); writers
		// open it by its path for every line, so they follow.
		sh("mount -t tmpfs -o size=64k tmpfs " + logfs + " && mv " + e.decisionLog() + " " + e.path("decisions.before.jsonl") +
			" && touch " + logfs + "/decisions.jsonl && ln -s " + logfs + "/decisions.jsonl " + e.decisionLog())
		defer e.inNamespace("umount", "-l", logfs).Run()
		sh("dd if=/dev/zero of=" + logfs + "/fill bs=1k 2>/dev/null || true")
		before := liveDecisions(t, e)

		for i, name := range []string{"full-a-", "full-b-"} {
			p := e.newPod("default", name+tag, false)
			defer p.remove()
			id := startContainer(t, e, p, nil) // judged and started with no room for the log
			if out, err := e.crictl("exec", id, "true"); err != nil {
				t.Fatalf("container %d does not run with the log full: %v %s", i, err, out)
			}
		}
		wrapperDropped := tallyOf(t, e, "log-dropped")
		if wrapperDropped < 2 {
			t.Fatalf("the wrappers counted %d dropped lines for two containers started with a full log", wrapperDropped)
		}
		sh("rm " + logfs + "/fill")
		pluginDropped := liveDecisions(t, e) - before
		after := e.newPod("default", "full-after-"+tag, false)
		defer after.remove()
		startContainer(t, e, after, nil)

		var said int64
		// The tmpfs is mounted in the environment's namespace only.
		data, _ := e.inNamespace("cat", e.decisionLog()).Output()
		for _, line := range strings.Split(string(data), "\n") {
			var r struct {
				Action  string `json:"action"`
				Dropped int64  `json:"dropped"`
			}
			if json.Unmarshal([]byte(line), &r) == nil && r.Action == "dropped" {
				said += r.Dropped
			}
		}
		if want := pluginDropped + wrapperDropped; said != want {
			t.Fatalf("the log says %d lines were dropped; the plugin made %d decisions and the wrappers counted %d dropped while it was full; reported %d; the log's end:\n%s",
				said, pluginDropped, wrapperDropped, tallyOf(t, e, "log-dropped-reported"), data)
		}
		if reported := tallyOf(t, e, "log-dropped-reported"); reported != wrapperDropped {
			t.Fatalf("log-dropped-reported %d, want %d", reported, wrapperDropped)
		}
		t.Logf("containerd %s: with the log full 2 containers ran; afterwards the log said %d dropped lines (%d the plugin's, %d the wrappers')", e.version, said, pluginDropped, wrapperDropped)
	})
}

// liveDecisions is how many decisions the running plugin has made.
func liveDecisions(t *testing.T, e *env) int64 {
	t.Helper()
	out, err := e.inNamespace(guardBin, "status", "--json").Output()
	var report struct {
		Live struct {
			Counts map[string]map[string]int64 `json:"counts"`
		} `json:"live"`
	}
	if err != nil && len(out) == 0 || json.Unmarshal(out, &report) != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	var n int64
	for _, byAction := range report.Live.Counts {
		for _, c := range byAction {
			n += c
		}
	}
	return n
}

// tallyOf reads one of the wrapper's tallies in the environment's /run.
func tallyOf(t *testing.T, e *env, name string) int64 {
	t.Helper()
	out, _ := e.inNamespace("sh", "-c", "stat -c %s /run/nri-guard/tallies/"+name+" 2>/dev/null || echo 0").Output()
	n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return n
}
