//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestReadOnlyRootKeepsScratchWritable: the guard forces the root
// read-only and keeps the scratch directories the image has writable,
// each on a tmpfs of its own with the image's contents copied in (a
// directory of uid 33, mode 750, stays so). The container then tries what
// a compromised program would: plant a file among the programs, the
// configuration and the root (refused: read-only), write through the
// image's /var/log, a link to /etc (refused: a linked scratch directory
// gets no tmpfs), and run a binary it wrote to a scratch directory
// (refused: noexec). What a program writes at run time (a pid file, a
// cache, state) works.
func TestReadOnlyRootKeepsScratchWritable(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		p := e.newPod("default", "scratch-"+tag, false)
		defer p.remove()
		id := startContainer(t, e, p, nil)
		sh := func(script string) (string, error) { return e.crictl("exec", id, "sh", "-c", script) }

		for _, f := range []string{"/tmp/x", "/var/tmp/x", "/run/x.pid", "/var/cache/x", "/var/lib/x"} {
			if out, err := sh("echo written > " + f + " && cat " + f); err != nil || out != "written" {
				t.Errorf("writing %s (a scratch directory): %q %v", f, out, err)
			}
		}
		for _, f := range []string{"/planted", "/bin/planted", "/etc/planted", "/var/log/planted"} {
			out, err := sh("echo x > " + f)
			if err == nil || !strings.Contains(out+err.Error(), "Read-only file system") {
				t.Errorf("planting %s: %q %v, want Read-only file system", f, out, err)
			}
		}
		out, err := sh("cp /bin/busybox /tmp/bb && chmod 755 /tmp/bb && /tmp/bb echo ran")
		if err == nil || strings.Contains(out, "ran") || !strings.Contains(out+err.Error(), "Permission denied") {
			t.Errorf("running a binary written to /tmp: %q %v, want Permission denied (noexec)", out, err)
		}
		if out, err := e.crictl("exec", id, "stat", "-c", "%u %a", "/var/lib/app"); err != nil || out != "33 750" {
			t.Errorf("the image's /var/lib/app under the scratch tmpfs: %q %v, want owner 33 mode 750", out, err)
		}
		// The mounts as the kernel has them in the container.
		mounts, err := e.crictl("exec", id, "cat", "/proc/self/mountinfo")
		must(t, err)
		for _, dir := range []string{"/tmp", "/run", "/var/lib"} {
			line := mountLine(mounts, dir)
			if line == "" || !strings.Contains(line, " - tmpfs ") || !strings.Contains(line, "noexec") || !strings.Contains(line, "nosuid") || !strings.Contains(line, "nodev") {
				t.Errorf("%s: mountinfo %q, want a nosuid, nodev, noexec tmpfs", dir, line)
			}
		}
		if root := mountLine(mounts, "/"); !strings.Contains(root, " ro,") && !strings.Contains(root, " ro ") {
			t.Errorf("root: mountinfo %q, want read-only", root)
		}
		t.Logf("containerd %s: scratch directories writable, root read-only, noexec held", e.version)
	})
}

// mountLine is mountinfo's last line for the mount point dir (the one on
// top).
func mountLine(mountinfo, dir string) string {
	found := ""
	for _, line := range strings.Split(mountinfo, "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			found = line
		}
	}
	return found
}
