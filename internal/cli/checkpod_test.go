package cli

import (
	"strings"
	"testing"
)

const svclbPod = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: svclb-traefik-1a2b3c4d, namespace: kube-system}
spec:
  template:
    spec:
      securityContext:
        sysctls: [{name: net.ipv4.ip_forward, value: "1"}]
      containers:
      - name: lb-tcp-80
        image: rancher/klipper-lb:v0.4.13
        securityContext: {capabilities: {add: [NET_ADMIN]}}
`

func TestCheckManifestWithPresets(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "svclb.yaml", svclbPod)
	code, out, errOut := run(t, "check", "--policy", "/nonexistent/policy.yaml", "--preset", "restricted", pod)
	if code != 2 || !strings.Contains(errOut, "/nonexistent/policy.yaml") {
		t.Fatalf("a named policy file that is missing must fail: exit %d %s", code, errOut)
	}
	code, out, _ = run(t, "check", "--policy-dir", "", "--preset", "restricted", pod)
	for _, want := range []string{
		"sysctls: linux.sysctl[net.ipv4.ip_forward] = 1: sysctl not in the allowlist",
		"capabilities: process.capabilities = CAP_NET_ADMIN: added capability outside the allowlist",
		"uid: runAsUser is not set; the image's user is assumed to be root (0)",
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("restricted alone: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	code, out, _ = run(t, "check", "--policy-dir", "", "--preset", "restricted", "--preset", "k3s-system", pod)
	if code != 0 || !strings.Contains(out, "exception: k3s-svclb (profiles/policy/k3s-system.yaml:") || !strings.Contains(out, "exception: k3s-svclb-sysctls") {
		t.Errorf("with k3s-system: exit %d\n%s", code, out)
	}
}

func TestCheckManifestBadInput(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "bad.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  hostPID: sometimes\n  containers: []\n")
	code, _, errOut := run(t, "check", "--policy-dir", "", "--preset", "baseline", pod)
	if code != 2 || !strings.Contains(errOut, "bad.yaml:4: cannot unmarshal !!str `sometimes` into bool") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
