package nriview

import "github.com/containerd/nri/pkg/api"

// Pod annotation and runtime name by which containerd's CRI plugin sends a
// pod to its "untrusted" runtime (internal/cri/config, GetSandboxRuntime,
// containerd 2.0 to 2.4): a pod annotated so, with no handler of its own,
// runs under the runtime named "untrusted" while NRI still shows the
// handler the client sent, "".
const (
	untrustedWorkloadAnnotation = "io.kubernetes.cri.untrusted-workload"
	untrustedRuntime            = "untrusted"
)

// runtimeHandlerOf is the runtime that will really run the pod. A pod
// author can set the untrusted-workload annotation, so it is read here:
// otherwise such a pod would be judged as one of the default runtime.
func runtimeHandlerOf(pod *api.PodSandbox) string {
	h := pod.GetRuntimeHandler()
	if h == "" && pod.GetAnnotations()[untrustedWorkloadAnnotation] == "true" {
		return untrustedRuntime
	}
	return h
}
