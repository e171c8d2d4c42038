package check_test

import (
	"slices"
	"testing"

	"github.com/nri-guard/nri-guard/internal/check"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/kubepod"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Under the restricted preset, uid 0 passes only in a user namespace that
// keeps it off the node's root: in a pod manifest, hostUsers: false (kubelet
// picks the ids); in an OCI spec, mappings above userNamespaces.minHostID.
func TestRestrictedTrustsOnlyUserNamespacesAboveTheFloor(t *testing.T) {
	eng := presetEngine(t, false, "restricted")
	pod := func(hostUsers string) []byte {
		return []byte(`apiVersion: v1
kind: Pod
metadata: {name: rooted, namespace: shop}
spec:
  hostUsers: ` + hostUsers + `
  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: x
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`)
	}
	for hostUsers, wantRefused := range map[string]bool{"false": false, "true": true} {
		results, err := check.JudgeManifest("pod.yaml", pod(hostUsers), eng, kubepod.Options{})
		if err != nil {
			t.Fatal(err)
		}
		refused := false
		for _, r := range results {
			refused = refused || slices.ContainsFunc(r.Decision.Enforced(), func(f controls.Finding) bool { return f.Control == "run-as-root" })
		}
		if refused != wantRefused {
			t.Errorf("hostUsers: %s: run-as-root refused %v, want %v", hostUsers, refused, wantRefused)
		}
	}

	for _, tc := range []struct {
		name    string
		mapping specs.LinuxIDMapping
		refused bool
	}{
		{"kubelet's range", specs.LinuxIDMapping{ContainerID: 0, HostID: 65536, Size: 65536}, false},
		{"the wrapper's pool", specs.LinuxIDMapping{ContainerID: 0, HostID: 0x70000000, Size: 65536}, false},
		{"container root to host root", specs.LinuxIDMapping{ContainerID: 0, HostID: 0, Size: 65536}, true},
		{"below the floor", specs.LinuxIDMapping{ContainerID: 0, HostID: 100, Size: 65536}, true},
	} {
		m := []specs.LinuxIDMapping{tc.mapping}
		spec := &specs.Spec{Process: &specs.Process{Cwd: "/"}, Linux: &specs.Linux{
			Namespaces:  []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "network"}, {Type: "mount"}, {Type: "user"}},
			UIDMappings: m, GIDMappings: m,
		}}
		d := eng.Decide(view.FromSpec("id", spec, view.SpecSource{}))
		refused := slices.ContainsFunc(d.Enforced(), func(f controls.Finding) bool { return f.Control == "run-as-root" })
		if refused != tc.refused {
			t.Errorf("OCI spec, %s: run-as-root refused %v, want %v: %v", tc.name, refused, tc.refused, d.Findings)
		}
	}
}
