//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// usernsOptions is a CRI pod user namespace (mode POD) mapping container
// ids 0-65535 to host ids from hostID.
func usernsOptions(hostID int) map[string]any {
	m := []any{map[string]any{"host_id": hostID, "container_id": 0, "length": 65536}}
	return map[string]any{"linux": map[string]any{"security_context": map[string]any{
		"namespace_options": map[string]any{"userns_options": map[string]any{"mode": 0, "uids": m, "gids": m}}}}}
}

// TestUserNamespaceRootToRootIsRefused attacks with a CRI client's own
// id mappings: containerd passes userns_options as sent, so a pod may
// ask for a user namespace mapping container root to host root, and a
// guard that trusts any user namespace lets uid 0 run as the node's
// root (it reads a root-only 0600 canary through an allowed volume).
// Under runAsRoot enforce the container is refused, naming the mapping;
// under userNamespaces enforce the sandbox is; a pod whose ids start
// above userNamespaces.minHostID still runs.
func TestUserNamespaceRootToRootIsRefused(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		vol := e.path("userns-canary")
		must(t, os.MkdirAll(vol, 0o755))
		must(t, os.WriteFile(filepath.Join(vol, "canary"), []byte("node secret\n"), 0o600))
		volume := map[string]any{"mounts": []any{map[string]any{"host_path": vol, "container_path": "/data", "readonly": true}},
			"linux": map[string]any{"security_context": map[string]any{"seccomp": map[string]any{"profile_type": 0}}}}

		evil := e.newPod("rootrefused", "userns-root-"+tag, false, usernsOptions(0))
		defer evil.remove()
		id, err := evil.create(merge(volume, usernsOptions(0)))
		if err == nil {
			_, err = e.crictl("start", id)
		}
		if err == nil {
			uidMap, _ := e.crictl("exec", id, "cat", "/proc/self/uid_map")
			canary, cerr := e.crictl("exec", id, "cat", "/data/canary")
			t.Fatalf("a pod mapping container root to host root runs: uid_map %q; reading the root-only canary: %q %v", uidMap, canary, cerr)
		}
		for _, want := range []string{"run-as-root", "linux.uidMappings maps container id 0 to host id 0 (65536 ids), and host id 0 is the node's root", "userNamespaces.minHostID"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("refusal %q lacks %q", err, want)
			}
		}
		t.Logf("containerd %s: root-to-root user namespace refused: %s", e.version, err)

		// Where a user namespace is required, the sandbox itself is
		// refused: its namespace is containerd's pinned file, whose
		// mappings the spec carries (runc checks they match).
		sandbox := e.newPod("userns", "userns-root-sandbox-"+tag, false, usernsOptions(0))
		defer sandbox.remove()
		if sandbox.runErr == nil {
			t.Fatalf("a pod sandbox mapping container root to host root runs where user namespaces are required")
		}
		for _, want := range []string{"user-namespaces", "linux.uidMappings maps container id 0 to host id 0 (65536 ids), and host id 0 is the node's root", "userNamespaces.minHostID"} {
			if !strings.Contains(sandbox.runErr.Error(), want) {
				t.Fatalf("sandbox refusal %q lacks %q", sandbox.runErr, want)
			}
		}

		good := e.newPod("rootrefused", "userns-high-"+tag, false, usernsOptions(300000))
		defer good.remove()
		id = startContainer(t, e, good, merge(volume, usernsOptions(300000)))
		if out, err := e.crictl("exec", id, "cat", "/proc/self/uid_map"); err != nil || strings.Join(strings.Fields(out), " ") != "0 300000 65536" {
			t.Fatalf("uid_map of the benign pod: %q %v", out, err)
		}
		if out, err := e.crictl("exec", id, "cat", "/data/canary"); err == nil {
			t.Fatalf("uid 0 of a pod mapped from 300000 read the root-only canary: %q", out)
		}
		if uid := hostUID(t, e, id); uid != 300000 {
			t.Fatalf("the benign pod's process is uid %d on the node, want 300000", uid)
		}
	})
}
