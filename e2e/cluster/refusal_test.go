//go:build e2e_cluster

package cluster

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// privilegedPod is a pod the API admits (the apiserver runs with
// --allow-privileged, as K3s's does) and nri-guard refuses.
func privilegedPod(name, ns string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  containers:
  - name: c
    image: %s
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    securityContext: {privileged: true}
`, name, ns, busyboxRef)
}

// expectRefusalShown waits until the kubelet reports the container's
// creation failed and returns nri-guard's refusal text (from the node's
// decision log) after checking that the user sees all of it: in the
// container's waiting message (CreateContainerError) and in a Warning
// event of the pod (kubectl describe pod).
func expectRefusalShown(t *testing.T, ns, pod, container string) string {
	t.Helper()
	s := waitPod(t, ns, pod, 90*time.Second, "in CreateContainerError", func(s podStatus) bool {
		_, ok := createContainerError(s)
		return ok
	})
	text := refusalOf(t, ns, pod, container)
	wantPrefix := fmt.Sprintf("nri-guard: refused %s/%s/%s: ", ns, pod, container)
	if !strings.HasPrefix(text, wantPrefix) {
		t.Errorf("refusal text %q does not start with %q", text, wantPrefix)
	}
	if msg, _ := createContainerError(s); !strings.Contains(msg, text) {
		t.Errorf("the container's waiting message does not carry nri-guard's full text:\n got: %s\nwant: …%s…", msg, text)
	}
	expectWarningCarries(t, ns, pod, text, 30*time.Second)
	return text
}

// expectWarningCarries waits for a Warning event of the pod carrying
// nri-guard's whole text, and says which events there were when none
// does.
func expectWarningCarries(t *testing.T, ns, pod, text string, limit time.Duration) bool {
	t.Helper()
	var seen []string
	if pollUntil(limit, func() bool {
		seen = nil
		for _, e := range podEvents(ns, pod) {
			if e.Type == "Warning" && strings.Contains(e.Message, text) {
				return true
			}
			seen = append(seen, e.Reason+": "+e.Message)
		}
		return false
	}) {
		return true
	}
	t.Errorf("no Warning event of %s/%s carries nri-guard's full text %q; events:\n%s", ns, pod, text, strings.Join(seen, "\n"))
	return false
}

// TestRefusalShownInEvents: a privileged pod is admitted by the API and
// refused by nri-guard; the pod's events say why, in nri-guard's words.
func TestRefusalShownInEvents(t *testing.T) {
	defer count(t)
	t.Cleanup(func() { deleteObjects(t, "pod/priv") })
	mustApply(t, privilegedPod("priv", "default"))
	text := expectRefusalShown(t, "default", "priv", "c")
	if !strings.Contains(text, "the full host device set of a privileged container") {
		t.Errorf("refusal %q does not name the privileged container's device set", text)
	}
	t.Logf("kubectl describe pod shows: %s", text)
}

// staticPodTwin is the pod both routes carry: a hostPath volume of K3s's
// data directory (where nri-guard's own policy lies), the classic thing
// to smuggle in through a static pod, which no admission ever sees.
func staticPodTwin(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: default}
spec:
  containers:
  - name: c
    image: %s
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    volumeMounts: [{name: k3s, mountPath: /k3s}]
  volumes: [{name: k3s, hostPath: {path: %s, type: Directory}}]
`, name, busyboxRef, k3sDataDir)
}

// TestStaticPodRefusedLikeAPIPod: the same pod written to the kubelet's
// staticPodPath (no apiserver, no admission on its way) and applied
// through the API is refused by nri-guard with the same findings, and the
// static pod's mirror shows the refusal in its events too.
func TestStaticPodRefusedLikeAPIPod(t *testing.T) {
	defer count(t)
	manifest := staticPodPath("twin")
	t.Cleanup(func() {
		os.Remove(node.onNode(manifest))
		deleteObjects(t, "pod/twin-api")
	})
	mustApply(t, staticPodTwin("twin-api"))
	if err := node.writeOnNode(manifest, staticPodTwin("twin"), 0o644); err != nil {
		t.Fatal(err)
	}
	apiText := expectRefusalShown(t, "default", "twin-api", "c")
	// The kubelet names a static pod NAME-NODENAME; its mirror pod in
	// the API carries the name.
	staticText := expectRefusalShown(t, "default", "twin-"+nodeName, "c")
	findings := func(text, pod string) string {
		return strings.TrimPrefix(text, "nri-guard: refused default/"+pod+"/c: ")
	}
	if a, s := findings(apiText, "twin-api"), findings(staticText, "twin-"+nodeName); a != s {
		t.Errorf("the static pod is not refused like the API pod:\n   API: %s\nstatic: %s", a, s)
	}
	if !strings.Contains(apiText, k3sDataDir) {
		t.Errorf("refusal %q does not name the host path", apiText)
	}
	t.Logf("both refused: %s", findings(staticText, "twin-"+nodeName))
}

func staticPodPath(name string) string { return staticPodDir + "/" + name + ".yaml" }

// TestWrapperRefusalShownInEvents: a container adding CAP_SYS_ADMIN is
// refused by the runtime wrapper (NRI cannot see capabilities), at start;
// the user still reads nri-guard's whole text in a Warning event of the
// pod and in the container's status, as for a refusal at creation.
func TestWrapperRefusalShownInEvents(t *testing.T) {
	defer count(t)
	t.Cleanup(func() { deleteObjects(t, "pod/sysadmin") })
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: sysadmin}
spec:
  containers:
  - name: c
    image: %s
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    securityContext: {capabilities: {add: [SYS_ADMIN]}}
`, busyboxRef))
	text := refusalOf(t, "default", "sysadmin", "c")
	if !strings.Contains(text, "CAP_SYS_ADMIN") || !strings.HasPrefix(text, "nri-guard: refused default/sysadmin/c: ") {
		t.Fatalf("the wrapper's refusal %q does not name the pod and CAP_SYS_ADMIN", text)
	}
	if !expectWarningCarries(t, "default", "sysadmin", text, 60*time.Second) {
		t.FailNow()
	}
	// The kubelet sends the event before it updates the pod's status.
	if !pollUntil(30*time.Second, func() bool {
		s, _ := getPod("default", "sysadmin")
		for _, c := range s.ContainerStatuses {
			if w := c.State.Waiting; w != nil && strings.Contains(w.Message, text) {
				return true
			}
			if x := c.State.Terminated; x != nil && strings.Contains(x.Message, text) {
				return true
			}
		}
		return false
	}) {
		t.Errorf("the container's status does not carry the wrapper's text:\n%s", describe("default", "sysadmin"))
	}
	t.Logf("kubectl describe pod shows the wrapper's refusal: %s", text)
}
