//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestSubPathMounts: kubelet hands a subPath mount to containerd as a
// bind of the sub-directory below the pod's own volume-subpaths
// directory, so its source looks like the pod's own volume. The guard
// judges the host path behind it, from the node's mount table: a hostPath
// volume of "/" mounted with subPath etc is /etc and refused; a subPath
// of the pod's own emptyDir runs. The suite plays kubelet's part with
// mount --bind in the environment's mount namespace.
func TestSubPathMounts(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		name := "subpath-" + tag
		pods := "/var/lib/kubelet/pods/" + name + "-uid"
		toEtc := pods + "/volume-subpaths/host/c1/0"
		toOwn := pods + "/volume-subpaths/scratch/c1/1"
		emptyDir := pods + "/volumes/kubernetes.io~empty-dir/scratch/sub"
		for _, cmd := range [][]string{
			{"mkdir", "-p", toEtc, toOwn, emptyDir},
			{"mount", "--bind", "/etc", toEtc},
			{"mount", "--bind", emptyDir, toOwn},
		} {
			if out, err := e.inNamespace(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", cmd, err, out)
			}
		}
		p := e.newPod("e2e", name, false)
		defer p.remove()

		_, err := p.create(map[string]any{"mounts": []any{map[string]any{"host_path": toEtc, "container_path": "/h"}}})
		if err == nil || !strings.Contains(err.Error(), "host-mounts: mounts[/h].source = /etc: is /etc, denied") {
			t.Fatalf("a hostPath / with subPath etc must be refused as /etc: %v", err)
		}
		id, err := p.create(map[string]any{"metadata": map[string]any{"name": "c2"},
			"mounts": []any{map[string]any{"host_path": toOwn, "container_path": "/scratch"}}})
		if err != nil {
			t.Fatalf("a subPath of the pod's own emptyDir must be created: %v", err)
		}
		if _, err := e.crictl("start", id); err != nil {
			t.Fatalf("start: %v", err)
		}
	})
}
