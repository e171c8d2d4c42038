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
// system and the exception, and never runs, when the volume is not one
// the kubelet made fresh for the pod; look-alikes of such a volume (its
// shape below another directory, a destination given twice) are refused
// too. The kubelet's emptyDir for the pod is bound without the idmap
// instead and the pod runs, its files landing on the node as the
// namespace's host id, not as root.
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

		// The red team's look-alikes: the emptyDir's shape below another
		// directory, and a destination given twice, once as the pod's
		// emptyDir. The environment's /var is an overlay of its own, so a
		// kubelet directory made there is on overlayfs too.
		name := "unmappable-emptydir-" + tag
		emptyDir := func(pod string) string {
			dir := "/var/lib/kubelet/pods/" + pod + "-uid/volumes/kubernetes.io~empty-dir/cache"
			sh("mkdir -p " + dir + " && chmod 777 " + dir)
			return dir
		}
		lookalike := filepath.Join(overlay, "pods", name+"-uid", "volumes", "kubernetes.io~empty-dir", "cache")
		sh("mkdir -p " + lookalike + " && chmod 777 " + lookalike)
		twice := "unmappable-twice-" + tag
		for pod, mounts := range map[string][]any{
			"unmappable-lookalike-" + tag: {map[string]any{"host_path": lookalike, "container_path": "/cache"}},
			twice:                         {map[string]any{"host_path": emptyDir(twice), "container_path": "/cache"}, map[string]any{"host_path": overlay, "container_path": "/cache"}},
		} {
			p := e.newPod("usernsenable", pod, false)
			defer p.remove()
			id, err := p.create(map[string]any{"mounts": mounts})
			if err == nil {
				_, err = e.crictl("start", id)
			}
			if err == nil || !strings.Contains(err.Error(), "which this kernel cannot idmap") {
				t.Fatalf("%s (%v): %v, want refused by the wrapper", pod, mounts, err)
			}
		}

		// A volume with mounts below it: one the kernel cannot idmap
		// refuses it; with only ones it can, they are idmapped with it
		// (ridmap), so root's file there is root's on the node, not the
		// range's (a plain bind below an idmapped one).
		withBelow, okBelow := e.path("with-overlay-below"), e.path("with-tmpfs-below")
		must(t, os.MkdirAll(filepath.Join(withBelow, "sub"), 0o755))
		must(t, os.MkdirAll(filepath.Join(okBelow, "sub"), 0o755))
		sh("mount --bind " + overlay + " " + withBelow + "/sub && mount -t tmpfs -o mode=777 tmpfs " + okBelow + "/sub")
		defer e.inNamespace("sh", "-c", "umount -l "+withBelow+"/sub; umount -l "+okBelow+"/sub").Run()
		below := e.newPod("usernsenable", "unmappable-below-"+tag, false)
		defer below.remove()
		id, err = below.create(map[string]any{"mounts": []any{map[string]any{"host_path": withBelow, "container_path": "/data"}}})
		if err == nil {
			_, err = e.crictl("start", id)
		}
		if err == nil || !strings.Contains(err.Error(), "the mount below it at ") {
			t.Fatalf("a volume with an overlay mounted below it: %v, want refused naming the mount below", err)
		}
		mapped := e.newPod("usernsenable", "idmapped-below-"+tag, false)
		defer mapped.remove()
		id = startContainer(t, e, mapped, map[string]any{"mounts": []any{map[string]any{"host_path": okBelow, "container_path": "/data"}}})
		if out, err := e.crictl("exec", id, "sh", "-c", "echo x > /data/sub/f && stat -c %u /data/sub/f"); err != nil || out != "0" {
			t.Fatalf("root's file in the tmpfs below the volume: %q %v, want uid 0 inside", out, err)
		}
		if out, err := e.inNamespace("stat", "-c", "%u", filepath.Join(okBelow, "sub", "f")).Output(); err != nil || strings.TrimSpace(string(out)) != "0" {
			t.Fatalf("root's file in the tmpfs below the volume is uid %s on the node (%v), want 0: idmapped with the volume", out, err)
		}

		// The second red team's: the pod's own emptyDir with a mount below
		// it (not even a fresh volume goes unmapped then), and a bind
		// that takes mounts from the node later (HostToContainer).
		withSub := "unmappable-withsub-" + tag
		subDir := emptyDir(withSub)
		must(t, os.MkdirAll(e.path("ext4-below"), 0o755))
		sh("mkdir -p " + subDir + "/sub && mount --bind " + e.path("ext4-below") + " " + subDir + "/sub")
		defer e.inNamespace("umount", "-l", subDir+"/sub").Run()
		propagating := e.path("propagating")
		must(t, os.MkdirAll(propagating, 0o755))
		// containerd takes HostToContainer only from a shared or slave mount
		sh("mount --bind " + propagating + " " + propagating + " && mount --make-shared " + propagating)
		defer e.inNamespace("umount", "-l", propagating).Run()
		for pod, c := range map[string]struct {
			mount map[string]any
			want  string
		}{
			withSub:                   {map[string]any{"host_path": subDir, "container_path": "/cache"}, "which this kernel cannot idmap"},
			"unmappable-slave-" + tag: {map[string]any{"host_path": propagating, "container_path": "/data", "propagation": 1}, "mount propagation from the node (rslave) cannot go with the user namespace's idmap"},
		} {
			p := e.newPod("usernsenable", pod, false)
			defer p.remove()
			id, err := p.create(map[string]any{"mounts": []any{c.mount}})
			if err == nil {
				_, err = e.crictl("start", id)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s: %v, want refused with %q", pod, err, c.want)
			}
		}

		// The kubelet's emptyDir for the pod's UID, on overlayfs.
		fresh := emptyDir(name)
		scratch := e.newPod("usernsenable", name, false)
		defer scratch.remove()
		id = startContainer(t, e, scratch, map[string]any{"mounts": []any{map[string]any{"host_path": fresh, "container_path": "/cache"}}})
		start := checkRemapped(t, e, id)
		if out, err := e.crictl("exec", id, "sh", "-c", "echo kept > /cache/f && cat /cache/f"); err != nil || out != "kept" {
			t.Fatalf("the emptyDir must stay writable: %q %v", out, err)
		}
		out, err := e.inNamespace("stat", "-c", "%u", filepath.Join(fresh, "f")).Output()
		must(t, err)
		if got := strings.TrimSpace(string(out)); got != strconv.FormatUint(uint64(start), 10) {
			t.Fatalf("the file root wrote in the emptyDir is uid %s on the node, want the namespace's %d (no idmap, never root)", got, start)
		}
	})
}
