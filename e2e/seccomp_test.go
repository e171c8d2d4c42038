//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestDefaultSeccompProfile runs e2e/tools/sysprobe in containers that
// asked for no seccomp profile, so the node's default one is injected (by
// the plugin on 2.2+, by the runtime wrapper on 2.1): a shell, a Go HTTP
// server and client with a child process, and a database-like file
// workload run; every escape system call the probe makes fails with
// EPERM. The same calls in a container the policy leaves unconfined
// (namespace audit) get the kernel's own answers, so the filter, not a
// missing capability, is what refuses them.
func TestDefaultSeccompProfile(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		dbDir := e.path("db")
		must(t, os.MkdirAll(dbDir, 0o755))
		p := e.newPod("e2e", "seccomp-"+tag, false)
		defer p.remove()
		id := startContainer(t, e, p, map[string]any{
			"mounts": []any{map[string]any{"host_path": dbDir, "container_path": "/data"}}})

		for _, run := range []struct {
			args []string
			want string
		}{
			{[]string{"sh", "-c", "echo $((6*7))"}, "42"},
			{[]string{"sysprobe", "serve"}, "served ok"},
			{[]string{"sysprobe", "db", "/data"}, "db ok"},
		} {
			if out, err := e.crictl(append([]string{"exec", id}, run.args...)...); err != nil || out != run.want {
				t.Errorf("%v under the default profile: %q %v, want %q", run.args, out, err, run.want)
			}
		}
		confined := escapeErrnos(t, e, id)
		for name, errno := range confined {
			if errno != "1" {
				t.Errorf("%s under the default profile: errno %s, want 1 (EPERM)", name, errno)
			}
		}

		loose := e.newPod("audit", "seccomp-unconfined-"+tag, false)
		defer loose.remove()
		unconfined := escapeErrnos(t, e, startContainer(t, e, loose, nil))
		for _, name := range []string{"unshare", "setns", "keyctl", "add_key", "ptrace", "kcmp", "name_to_handle_at", "io_uring_setup"} {
			if errno, ok := unconfined[name]; !ok || errno == "1" {
				t.Errorf("%s unconfined: errno %q, want the kernel's own answer: the control's proof relies on it", name, errno)
			}
		}
		t.Logf("containerd %s: EPERM for %d of %d escape calls under the default profile, %d unconfined", e.version, eperms(confined), len(confined), eperms(unconfined))
	})
}

func eperms(errnos map[string]string) int {
	n := 0
	for _, errno := range errnos {
		if errno == "1" {
			n++
		}
	}
	return n
}

// escapeErrnos runs sysprobe escapes in the container: errno by call.
func escapeErrnos(t *testing.T, e *env, id string) map[string]string {
	t.Helper()
	out, err := e.crictl("exec", id, "sysprobe", "escapes")
	must(t, err)
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			got[f[0]] = f[1]
		}
	}
	if len(got) < 20 {
		t.Fatalf("sysprobe escapes printed %d calls: %q", len(got), out)
	}
	return got
}
