//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnjudgedContainersAreNamed: a container created outside CRI (`ctr
// run`, whose shim runs the runc it is given, not the wrapper) never
// meets either half of the guard. nri-guard cannot stop that path, so
// `nri-guard status` must name such a container, and only such: the
// pods created through CRI (their sandboxes too) passed the wrapper.
func TestUnjudgedContainersAreNamed(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		p := e.newPod("e2e", "unjudged-"+tag, false)
		defer p.remove()
		startContainer(t, e, p, nil)
		status := func() string {
			out, _ := e.inNamespace(guardBin, "status").CombinedOutput()
			return string(out)
		}
		if out := status(); !strings.Contains(out, "every running container was judged") {
			t.Fatalf("with only CRI pods running, status must find every container judged:\n%s", out)
		}

		ctrID := "made-by-ctr-" + tag
		ctr := func(args ...string) (string, error) {
			full := append([]string{"--address", e.path("containerd.sock"), "-n", "k8s.io"}, args...)
			out, err := e.inNamespace(filepath.Join(e.bin, "ctr"), full...).CombinedOutput()
			return string(out), err
		}
		if out, err := ctr("run", "-d", "--runc-binary", runcBin, "--cgroup", cgroupParent(e.token)+"/"+ctrID,
			"localhost/e2e/busybox:1", ctrID, "sleep", "3600"); err != nil {
			t.Fatalf("ctr run: %v\n%s", err, out)
		}
		defer func() {
			ctr("task", "kill", "-s", "SIGKILL", ctrID)
			pollUntil(10*time.Second, func() bool {
				_, err := ctr("task", "delete", ctrID)
				return err == nil
			})
			ctr("container", "rm", ctrID)
		}()
		out := status()
		if !strings.Contains(out, "1 running container(s) were NOT judged") || !strings.Contains(out, "  "+ctrID+" ") {
			t.Fatalf("status must name the container ctr created, and only it:\n%s", out)
		}
		t.Logf("nri-guard status with a ctr container:\n%s", out)
	})
}
