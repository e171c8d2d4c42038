//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestAllowedDevicePathIsTheNodesDevice: the "fuse" namespace may have
// /dev/fuse. A CRI client names a device's container path and host path
// apart, so it asks for the node's disk at /dev/fuse and reads it (found
// by the red team). The genuine /dev/fuse is admitted; the disk is
// refused, and if it ever ran, the container tries to read the disk.
func TestAllowedDevicePathIsTheNodesDevice(t *testing.T) {
	disk := nodeDisk(t)
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		device := func(host string) map[string]any {
			return map[string]any{"devices": []any{map[string]any{"container_path": "/dev/fuse", "host_path": host, "permissions": "r"}}}
		}
		fp := e.newPod("fuse", "fuse-"+tag, false)
		defer fp.remove()
		fid, err := fp.create(device("/dev/fuse"))
		if err == nil {
			_, err = e.crictl("start", fid)
		}
		if err != nil {
			t.Fatalf("the node's own /dev/fuse under the fuse exception: %s", guardText(err.Error()))
		}
		dp := e.newPod("fuse", "disk-"+tag, false)
		defer dp.remove()
		did, err := dp.create(device(disk))
		if err == nil {
			_, err = e.crictl("start", did)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "an allowed path admits only the node's own device there") {
				t.Fatalf("refused, but not for the device: %s", guardText(err.Error()))
			}
			t.Logf("refused: %s", guardText(err.Error()))
			return
		}
		out, err := e.crictl("exec", did, "sh", "-c", "ls -l /dev/fuse; head -c 4096 /dev/fuse | wc -c")
		t.Logf("container: %q %v", out, err)
		t.Errorf("BYPASS: the node's disk %s ran as /dev/fuse under an exception that allows /dev/fuse", disk)
	})
}

// nodeDisk is a block device of the node to try to read.
func nodeDisk(t *testing.T) string {
	for _, d := range []string{"/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda", "/dev/loop0"} {
		if typ, _ := statType(d); typ == "b" {
			return d
		}
	}
	t.Skip("no block device on this node")
	return ""
}

func statType(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	switch {
	case fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0:
		return "b", nil
	case fi.Mode()&os.ModeCharDevice != 0:
		return "c", nil
	}
	return "", nil
}
