//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPinsDirectoryIsNoWayIn: the wrapper pins every judged bind source
// under /run/nri-guard/pins/<container id>/<n>. A pod that mounted the
// pins directory would get every running container's volumes, including
// those that are "the pod's own" for their pod only (found by the red
// team before /run/nri-guard was a sensitive path): it is refused, and if
// it ever ran, it tries to read the victim's secret.
func TestPinsDirectoryIsNoWayIn(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	policies := map[string]policyRef{
		"defaults": defaultPolicy,
		"presets":  {File: filepath.Join(repoRoot, "e2e", "policies", "presets", "policy.yaml")},
	}
	for _, v := range versions {
		for pname, pol := range policies {
			t.Run(v+"/"+pname, func(t *testing.T) {
				t.Parallel() // environments share nothing (eachVersion)
				defer count(t)
				e := newEnvWith(t, v, "external", pol)
				tag := strings.ReplaceAll(v, ".", "")
				sec := map[string]any{
					"run_as_user":       map[string]any{"value": 1000},
					"run_as_group":      map[string]any{"value": 1000},
					"no_new_privs":      true,
					"capabilities":      map[string]any{"drop_capabilities": []any{"ALL"}},
					"seccomp":           map[string]any{"profile_type": 0},
					"readonly_rootfs":   true,
					"namespace_options": map[string]any{"pid": 1},
					"masked_paths":      kubeletMaskedPaths,
					"readonly_paths":    kubeletReadonlyPaths,
				}
				victim := "pinvictim-" + tag
				secretDir := "/var/lib/kubelet/pods/" + victim + "-uid/volumes/kubernetes.io~secret/token"
				plant := "mkdir -p " + secretDir + " && echo victim-token-" + e.token + " > " + secretDir + "/token && chmod 644 " + secretDir + "/token"
				if out, err := e.inNamespace("sh", "-c", plant).CombinedOutput(); err != nil {
					t.Fatalf("plant: %v %s", err, out)
				}
				vp := e.newPod("default", victim, false)
				defer vp.remove()
				vid, err := vp.create(map[string]any{"linux": map[string]any{"security_context": sec},
					"mounts": []any{map[string]any{"host_path": secretDir, "container_path": "/token", "readonly": true}}})
				if err == nil {
					_, err = e.crictl("start", vid)
				}
				if err != nil {
					t.Fatalf("victim with its own secret volume: %v", err)
				}
				ap := e.newPod("default", "pinthief-"+tag, false)
				defer ap.remove()
				thief := merge(sec, map[string]any{})
				if pname == "defaults" {
					// root without a single capability: owner of the 0700 pin directories
					thief["run_as_user"], thief["run_as_group"] = map[string]any{"value": 0}, map[string]any{"value": 0}
				}
				aid, err := ap.create(map[string]any{"linux": map[string]any{"security_context": thief},
					"mounts": []any{map[string]any{"host_path": "/run/nri-guard/pins", "container_path": "/pins", "readonly": true}}})
				if err == nil {
					_, err = e.crictl("start", aid)
				}
				if err != nil {
					t.Logf("refused: %s", guardText(err.Error()))
					return
				}
				out, err := e.crictl("exec", aid, "sh", "-c", "id; grep Cap /proc/self/status; cat /pins/*/*/token")
				t.Logf("thief read: %q %v", out, err)
				if strings.Contains(out, "victim-token-"+e.token) {
					t.Errorf("BYPASS: a pod that mounts /run/nri-guard/pins read another pod's secret volume")
				}
			})
		}
	}
}

// TestPinsAreNotWritable: a victim whose exception lets it mount the
// node's / read-only (log-readers: hostMounts action readOnly) has a pin
// of /. A capability-less pod that mounts /run/nri-guard/pins writable
// and writes the node's /etc through it must fail: it is refused (the
// pins are a sensitive path; the wrapper also makes the pin of a
// read-only mount read-only, unit-tested in internal/wrapper).
func TestPinsAreNotWritable(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		vp := e.newPod("logging", "rootreader-"+tag, false)
		defer vp.remove()
		vid, err := vp.create(map[string]any{"mounts": []any{map[string]any{"host_path": "/", "container_path": "/host", "readonly": true}}})
		if err == nil {
			_, err = e.crictl("start", vid)
		}
		if err != nil {
			t.Fatalf("victim log reader with / read-only: %v", err)
		}
		ap := e.newPod("default", "pinwriter-"+tag, false)
		defer ap.remove()
		aid, err := ap.create(map[string]any{"linux": map[string]any{"security_context": map[string]any{
			"run_as_user": map[string]any{"value": 0}, "capabilities": map[string]any{"drop_capabilities": []any{"ALL"}},
			"no_new_privs": true, "namespace_options": map[string]any{"pid": 1},
			"masked_paths": kubeletMaskedPaths, "readonly_paths": kubeletReadonlyPaths}},
			"mounts": []any{map[string]any{"host_path": "/run/nri-guard/pins", "container_path": "/pins"}}})
		if err == nil {
			_, err = e.crictl("start", aid)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "/run/nri-guard") {
				t.Fatalf("refused, but not for the pins: %s", guardText(err.Error()))
			}
			t.Logf("refused: %s", guardText(err.Error()))
			return
		}
		out, err := e.crictl("exec", aid, "sh", "-c", "grep CapEff /proc/self/status; for d in /pins/"+vid+"/*/etc; do echo "+e.token+" > $d/nrig-written && echo wrote $d; done")
		t.Logf("writer: %q %v", out, err)
		got, _ := e.inNamespace("cat", "/etc/nrig-written").CombinedOutput()
		t.Logf("node's /etc/nrig-written: %q", got)
		if strings.Contains(string(got), e.token) {
			t.Errorf("BYPASS: a capability-less pod wrote the node's /etc through another pod's read-only pin of /")
		}
	})
}
