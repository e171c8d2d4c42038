//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestOverlaySymlinkLayer: a later NRI plugin adds an overlay whose
// layers lie in the pod's own emptyDir, and the workload made the lower
// layer a symlink to /etc, which the kernel follows when it mounts the
// overlay (the red team's route: the container read the node's /etc). An
// overlay is refused unless mountTypes.allow lists it; if it ever runs,
// the container tries to read the canary.
func TestOverlaySymlinkLayer(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		canary := "nrig-canary-" + e.token
		if out, err := e.inNamespace("sh", "-c", "echo "+canary+" > /etc/nrig-canary").CombinedOutput(); err != nil {
			t.Fatalf("planting the canary: %v %s", err, out)
		}
		name := "ovl-" + tag
		vol := "/var/lib/kubelet/pods/" + name + "-uid/volumes/kubernetes.io~empty-dir/scratch"
		// What the pod's first container would do in its own emptyDir.
		prep := "mkdir -p " + vol + "/low2 && ln -s /etc " + vol + "/low"
		if out, err := e.inNamespace("sh", "-c", prep).CombinedOutput(); err != nil {
			t.Fatalf("prep: %v %s", err, out)
		}
		rules := e.startHostile()
		e.setHostileRules(rules, hostileRule{Container: "c1", Pod: name, Adjust: map[string]any{
			"mounts": []any{map[string]any{"source": "overlay", "destination": "/ov", "type": "overlay",
				"options": []any{"ro", "lowerdir=" + vol + "/low:" + vol + "/low2"}}},
		}})
		p := e.newPod("e2e", name, false)
		defer p.remove()
		id, err := createAndStart(e, p)
		if err != nil {
			if !strings.Contains(err.Error(), "mount-types: mounts[/ov].type = overlay") {
				t.Fatalf("refused, but not as an overlay: %v", err)
			}
			t.Logf("refused: %s", guardText(err.Error()))
			return
		}
		out, _ := e.crictl("exec", id, "cat", "/ov/nrig-canary")
		t.Logf("containerd %s: /ov/nrig-canary in the container: %q", e.version, out)
		if strings.Contains(out, canary) {
			t.Errorf("BYPASS: the overlay's lower layer followed a symlink in the pod's emptyDir to the node's /etc")
		}
	})
}
