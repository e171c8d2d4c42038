//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestClaimedPodUID: a pod's UID is the CRI client's word. A client that
// runs a sandbox under a live pod's UID and mounts that pod's secret
// volume from kubelet's pods/<uid>/ directory would read it as "its own"
// (found by the red team). Two live sandboxes never share a UID under
// kubelet, so the thief is refused; if it ever ran, it reads the secret.
func TestClaimedPodUID(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		victim := "uidvictim-" + tag
		secretDir := "/var/lib/kubelet/pods/" + victim + "-uid/volumes/kubernetes.io~secret/token"
		plant := "mkdir -p " + secretDir + " && echo victim-token-" + e.token + " > " + secretDir + "/token && chmod 644 " + secretDir + "/token"
		if out, err := e.inNamespace("sh", "-c", plant).CombinedOutput(); err != nil {
			t.Fatalf("plant: %v %s", err, out)
		}
		secret := map[string]any{"mounts": []any{map[string]any{"host_path": secretDir, "container_path": "/token", "readonly": true}}}
		vp := e.newPod("default", victim, false)
		defer vp.remove()
		vid, err := vp.create(secret)
		if err == nil {
			_, err = e.crictl("start", vid)
		}
		if err != nil {
			t.Fatalf("the victim with its own secret volume: %s", guardText(err.Error()))
		}
		// The thief's sandbox claims the victim's UID (and nothing else of it).
		tp := e.newPod("default", "uidthief-"+tag, false, map[string]any{"metadata": map[string]any{"uid": victim + "-uid"}})
		defer tp.remove()
		tid, err := tp.create(secret)
		if err == nil {
			_, err = e.crictl("start", tid)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "holds the same pod UID") {
				t.Fatalf("refused, but not for the claimed UID: %s", guardText(err.Error()))
			}
			t.Logf("refused: %s", guardText(err.Error()))
			return
		}
		out, _ := e.crictl("exec", tid, "cat", "/token/token")
		t.Logf("thief read: %q", out)
		if strings.Contains(out, "victim-token-"+e.token) {
			t.Errorf("BYPASS: a sandbox that claimed a live pod's UID read that pod's secret volume")
		} else {
			t.Errorf("the thief ran (without the secret): it should have been refused")
		}
	})
}
