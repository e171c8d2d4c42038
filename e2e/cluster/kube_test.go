//go:build e2e_cluster

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// kubectl runs kubectl as the admin in the bed's network namespace.
func (b *bed) kubectl(args ...string) (string, error) {
	return b.kubectlIn("", args...)
}

// kubectlIn feeds stdin (a manifest) to kubectl.
func (b *bed) kubectlIn(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pid := b.holder.Pid()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{fmt.Sprintf("--net=/proc/%d/ns/net", pid), "--",
		filepath.Join(kubeBin, "kubectl"), "--kubeconfig", b.kubectlCfg}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := run(cmd)
	return strings.TrimSpace(out), err
}

// apply applies a manifest; the error is admission's answer when it
// refuses.
func apply(t *testing.T, manifest string) error {
	t.Helper()
	_, err := node.kubectlIn(manifest, "apply", "-f", "-")
	return err
}

func mustApply(t *testing.T, manifest string) {
	t.Helper()
	if err := apply(t, manifest); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, manifest)
	}
}

// deleteObjects removes what a test made, without waiting for it.
func deleteObjects(t *testing.T, args ...string) {
	if _, err := node.kubectl(append([]string{"delete", "--ignore-not-found", "--wait=false"}, args...)...); err != nil {
		t.Logf("cleanup: %v", err)
	}
}

// podStatus is what tests read of a pod.
type podStatus struct {
	Phase             string `json:"phase"`
	PodIP             string `json:"podIP"`
	ContainerStatuses []struct {
		Name        string `json:"name"`
		Ready       bool   `json:"ready"`
		ContainerID string `json:"containerID"` // containerd://ID
		State       struct {
			Waiting *struct {
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"waiting"`
			Running    *struct{} `json:"running"`
			Terminated *struct {
				ExitCode int    `json:"exitCode"`
				Reason   string `json:"reason"`
				Message  string `json:"message"`
			} `json:"terminated"`
		} `json:"state"`
	} `json:"containerStatuses"`
}

func getPod(ns, name string) (podStatus, error) {
	var s struct {
		Status podStatus `json:"status"`
	}
	out, err := node.kubectl("get", "pod", "-n", ns, name, "-o", "json")
	if err != nil {
		return s.Status, err
	}
	err = json.Unmarshal([]byte(out), &s)
	return s.Status, err
}

// waitPod waits until cond holds for the pod's status, failing with the
// pod's description when it does not within limit.
func waitPod(t *testing.T, ns, name string, limit time.Duration, what string, cond func(podStatus) bool) podStatus {
	t.Helper()
	var s podStatus
	if pollUntil(limit, func() bool {
		var err error
		s, err = getPod(ns, name)
		return err == nil && cond(s)
	}) {
		return s
	}
	desc, _ := node.kubectl("describe", "pod", "-n", ns, name)
	t.Fatalf("pod %s/%s: not %s within %s:\n%s", ns, name, what, limit, desc)
	return s
}

func running(s podStatus) bool {
	if s.Phase != "Running" || len(s.ContainerStatuses) == 0 {
		return false
	}
	for _, c := range s.ContainerStatuses {
		if c.State.Running == nil {
			return false
		}
	}
	return true
}

func succeeded(s podStatus) bool { return s.Phase == "Succeeded" || s.Phase == "Failed" }

// createContainerError is the container's waiting message when the
// kubelet could not create it (nri-guard's refusal among them).
func createContainerError(s podStatus) (string, bool) {
	for _, c := range s.ContainerStatuses {
		if w := c.State.Waiting; w != nil && w.Reason == "CreateContainerError" {
			return w.Message, true
		}
	}
	return "", false
}

// event is one event of a pod.
type event struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func podEvents(ns, pod string) []event {
	out, err := node.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name="+pod, "-o", "json")
	if err != nil {
		return nil
	}
	var list struct {
		Items []event `json:"items"`
	}
	json.Unmarshal([]byte(out), &list)
	return list.Items
}

// decision is one record of nri-guard's decision log.
type decision struct {
	Phase     string `json:"phase"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Action    string `json:"action"`
	Message   string `json:"message"`
	Findings  []struct {
		Control string `json:"control"`
		Field   string `json:"field"`
		Problem string `json:"problem"`
		Action  string `json:"action"`
		Mode    string `json:"mode"`
	} `json:"findings"`
}

// decisions reads the node's decision log (the installer's path, on the
// /var overlay) for one pod.
func decisions(ns, pod string) []decision {
	var out []decision
	for _, line := range strings.Split(readFile(node.onNode(decisionLogPath)), "\n") {
		var d decision
		if json.Unmarshal([]byte(line), &d) == nil && d.Namespace == ns && d.Pod == pod {
			out = append(out, d)
		}
	}
	return out
}

// refusalOf waits for nri-guard's refusal of a container and returns its
// text as the decision log has it.
func refusalOf(t *testing.T, ns, pod, container string) string {
	t.Helper()
	var text string
	if !pollUntil(60*time.Second, func() bool {
		for _, d := range decisions(ns, pod) {
			if d.Container == container && d.Action == "refuse" && d.Message != "" {
				text = d.Message
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no refusal of %s/%s/%s in the decision log; its records for the pod: %+v", ns, pod, container, decisions(ns, pod))
	}
	return text
}

// shared is a workload several tests use (CoreDNS, the local-path
// provisioner, nginx): deployed once per run, the first test that needs
// it waits until its pods are Ready, and every test that needs it fails
// with the pods' description and decisions when it never was.
type shared struct {
	what, ns, selector string
	podPrefix          string // of its pods' names, for their decisions
	once               sync.Once
	err                error
}

func (c *shared) ensure(t *testing.T, manifest string) {
	t.Helper()
	c.once.Do(func() {
		if c.err = apply(t, manifest); c.err == nil {
			c.err = waitReadyPods(c.ns, c.selector, 120*time.Second)
		}
	})
	if c.err != nil {
		t.Fatalf("%s: %v\n%s", c.what, c.err, notReady(c.ns, c.selector, c.podPrefix))
	}
}

// notReady describes pods that did not get Ready, for a failure message:
// kubectl describe, the last lines of their logs (and of the container
// before its last restart), and nri-guard's decisions for them.
func notReady(ns, selector, podPrefix string) string {
	desc, _ := node.kubectl("describe", "pods", "-n", ns, "-l", selector)
	logs, _ := node.kubectl("logs", "-n", ns, "-l", selector, "--tail=20")
	previous, _ := node.kubectl("logs", "-n", ns, "-l", selector, "--previous", "--tail=20")
	return fmt.Sprintf("%s\nlog:\n%s\nlog before the last restart:\n%s\ndecisions: %+v", desc, logs, previous, decisionsWhere(ns, podPrefix))
}

// clusterIP is a Service's ClusterIP.
func clusterIP(t *testing.T, ns, service string) string {
	t.Helper()
	ip, err := node.kubectl("get", "service", "-n", ns, service, "-o", "jsonpath={.spec.clusterIP}")
	if err != nil || ip == "" {
		t.Fatalf("service %s has no ClusterIP: %v", service, err)
	}
	return ip
}

// pvcManifest is a claim on K3s's default StorageClass, ending in a
// document separator so a pod may follow.
func pvcManifest(name, size string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: %s}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: {requests: {storage: %s}}
---
`, name, size)
}

// describe is kubectl describe of a pod, for failure messages.
func describe(ns, pod string) string {
	out, _ := node.kubectl("describe", "pod", "-n", ns, pod)
	return out
}

// podLogs reads a container's log through the apiserver (and the
// kubelet's API).
func podLogs(ns, pod string) (string, error) {
	return node.kubectl("logs", "-n", ns, pod)
}
