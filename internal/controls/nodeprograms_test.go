package controls

import "testing"

// TestNodeProgramsAreNotWritable: with the built-in hostMounts lists (no
// preset turning on hostPathVolumes), a writable bind of a directory
// whose programs the node runs as root is refused — NRI's plugin
// directory (containerd starts every IDX-NAME there as root), CNI's
// binaries, the node's executables and libraries, root's cron (found by
// the red team) — while a read-only bind of /usr/share/zoneinfo, which
// pods commonly mount, passes.
func TestNodeProgramsAreNotWritable(t *testing.T) {
	s := loadControls(t, "")
	for _, src := range []string{"/opt/nri/plugins", "/opt/cni/bin", "/usr/bin", "/usr/lib", "/bin", "/sbin", "/lib", "/var/spool/cron", "/usr/local/bin", "/var/lib/kubelet/../../../usr"} {
		if got := (HostMounts{}).Check(withMounts(bind(src, "/x", "rbind", "rw")), s, testEnv()); len(got) == 0 {
			t.Errorf("a writable bind of %s passes hostMounts with the built-in lists", src)
		}
	}
	if got := (HostMounts{}).Check(withMounts(bind("/usr/share/zoneinfo", "/z", "rbind", "ro")), s, testEnv()); len(got) != 0 {
		t.Errorf("a read-only bind of /usr/share/zoneinfo must pass: %v", texts(got))
	}
}
