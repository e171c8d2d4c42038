//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestUnmappableVolumes: a container the guard moves into a user
// namespace, with a volume on a file system the kernel cannot idmap
// (overlayfs here; NFS, FUSE, and tmpfs before Linux 6.3 on other
// nodes), is refused by nri-guard's own text naming the mount, its file
// system and the exception, and never runs, when the volume outlives the
// pod; a volume in the kubelet's emptyDir place for the pod is bound
// without the idmap instead and the pod runs, its files landing on the
// node as the namespace's host id, not as root.
func TestUnmappableVolumes(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		layers, overlay := e.path("ovl-layers"), e.path("ovl")
		sh := func(script string) {
			t.Helper()
			if out, err := e.inNamespace("sh", "-c", script).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
		}
		must(t, os.MkdirAll(layers, 0o755))
		must(t, os.MkdirAll(overlay, 0o755))
		sh("mount -t tmpfs tmpfs " + layers + " && mkdir " + layers + "/l " + layers + "/u " + layers + "/w && " +
			"mount -t overlay overlay -o lowerdir=" + layers + "/l,upperdir=" + layers + "/u,workdir=" + layers + "/w " + overlay)
		defer e.inNamespace("sh", "-c", "umount -l "+overlay+"; umount -l "+layers).Run()

		// A volume that outlives the pod.
		kept := e.newPod("usernsenable", "unmappable-kept-"+tag, false)
		defer kept.remove()
		id, err := kept.create(map[string]any{"mounts": []any{map[string]any{"host_path": overlay, "container_path": "/data"}}})
		if err == nil {
			_, err = e.crictl("start", id)
		}
		want := "linux.namespaces.user: cannot be given a user namespace, as userNamespaces.want"
		if err == nil || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "mounts[/data].source = "+overlay+": on overlay, which this kernel cannot idmap") ||
			!strings.Contains(err.Error(), "userNamespaces.mode: off") {
			t.Fatalf("a volume on overlayfs in a remapped pod: %v, want nri-guard's refusal naming the mount", err)
		}
		t.Logf("refused: %s", err.Error()[strings.Index(err.Error(), "nri-guard-runc: refused"):])
		if state, _ := e.crictl("inspect", "-o", "go-template", "--template", "{{.status.state}}", id); strings.Contains(state, "RUNNING") {
			t.Fatalf("the refused container runs: %s", state)
		}

		// A volume in the kubelet's emptyDir place for the pod's UID.
		name := "unmappable-emptydir-" + tag
		cache := filepath.Join(overlay, "pods", name+"-uid", "volumes", "kubernetes.io~empty-dir", "cache")
		sh("mkdir -p " + cache + " && chmod 777 " + cache)
		scratch := e.newPod("usernsenable", name, false)
		defer scratch.remove()
		id = startContainer(t, e, scratch, map[string]any{"mounts": []any{map[string]any{"host_path": cache, "container_path": "/cache"}}})
		start := checkRemapped(t, e, id)
		if out, err := e.crictl("exec", id, "sh", "-c", "echo kept > /cache/f && cat /cache/f"); err != nil || out != "kept" {
			t.Fatalf("the emptyDir must stay writable: %q %v", out, err)
		}
		out, err := e.inNamespace("stat", "-c", "%u", filepath.Join(cache, "f")).Output()
		must(t, err)
		if got := strings.TrimSpace(string(out)); got != strconv.FormatUint(uint64(start), 10) {
			t.Fatalf("the file root wrote in the emptyDir is uid %s on the node, want the namespace's %d (no idmap, never root)", got, start)
		}
	})
}
