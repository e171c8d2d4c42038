package nriview

import (
	"testing"

	"github.com/containerd/nri/pkg/api"
)

func TestRuntimeHandlerFromNRI(t *testing.T) {
	untrusted := map[string]string{untrustedWorkloadAnnotation: "true"}
	cases := []struct {
		name string
		pod  *api.PodSandbox
		want string
	}{
		{"default runtime", &api.PodSandbox{}, ""},
		{"RuntimeClass crun", &api.PodSandbox{RuntimeHandler: "crun"}, "crun"},
		// containerd sends such a pod to its "untrusted" runtime while NRI
		// shows the handler the client sent.
		{"untrusted-workload annotation", &api.PodSandbox{Annotations: untrusted}, "untrusted"},
		{"untrusted-workload false", &api.PodSandbox{Annotations: map[string]string{untrustedWorkloadAnnotation: "false"}}, ""},
		{"explicit handler wins (containerd refuses the mix for other handlers)", &api.PodSandbox{RuntimeHandler: "untrusted", Annotations: untrusted}, "untrusted"},
		{"no pod", nil, ""},
	}
	for _, tc := range cases {
		if got := FromNRI(tc.pod, &api.Container{}, Source{}).Pod.RuntimeHandler; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
