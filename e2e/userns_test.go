//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// poolFirst is the floor of the e2e id pool (the product's default).
const poolFirst = 0x70000000

// TestUserNamespaceEnable runs pods under userNamespaces want: enable on
// every version: uid 0 inside is a node uid from the pool, two pods get
// disjoint ranges, a hostPath volume stays writable (idmapped), the root
// filesystem stays read-only, a restart of the guard keeps the pod's
// range, and removing the pod returns it.
func TestUserNamespaceEnable(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		vol := e.path("vol-a")
		must(t, os.MkdirAll(vol, 0o755))
		withVolume := map[string]any{"mounts": []any{map[string]any{"host_path": vol, "container_path": "/data"}}}

		a := e.newPod("usernsenable", "userns-a-"+tag, false)
		defer a.remove()
		idA := startContainer(t, e, a, withVolume)
		startA := checkRemapped(t, e, idA)

		if out, err := e.crictl("exec", idA, "sh", "-c", "echo written > /data/f && cat /data/f"); err != nil || out != "written" {
			t.Fatalf("the volume must be writable from inside: %q %v", out, err)
		}
		if owner := fileOwner(t, filepath.Join(vol, "f")); owner != 0 {
			t.Fatalf("a file uid 0 writes on the idmapped volume is owned by %d on the node, want 0", owner)
		}
		if _, err := e.crictl("exec", idA, "touch", "/planted"); err == nil {
			t.Fatal("the root filesystem must stay read-only")
		}

		// A pod sysctl in the network namespace, which belongs to the
		// node: the wrapper writes it, runc could not from inside.
		b := e.newPod("usernsenable", "userns-b-"+tag, false,
			map[string]any{"linux": map[string]any{"sysctls": map[string]any{"net.ipv4.ip_local_port_range": "20000 30000"}}})
		defer b.remove()
		idB := startContainer(t, e, b, nil)
		startB := checkRemapped(t, e, idB)
		if out, err := e.crictl("exec", idB, "cat", "/proc/sys/net/ipv4/ip_local_port_range"); err != nil || strings.Join(strings.Fields(out), " ") != "20000 30000" {
			t.Fatalf("the pod's net sysctl: %q %v, want 20000 30000", out, err)
		}
		if diff := int64(startA) - int64(startB); diff > -65536 && diff < 65536 {
			t.Fatalf("pods got overlapping ranges %d and %d", startA, startB)
		}

		e.stopGuard(syscall.SIGTERM)
		e.startGuard()
		e.waitGuarded()
		again := startContainer(t, e, a, merge(withVolume, map[string]any{"metadata": map[string]any{"name": "c2"}}))
		if got := checkRemapped(t, e, again); got != startA {
			t.Fatalf("after a guard restart the pod's new container has range %d, want the pod's %d", got, startA)
		}
		if out, err := e.crictl("exec", again, "cat", "/data/f"); err != nil || out != "written" {
			t.Fatalf("the pod's second container must read the first one's file: %q %v", out, err)
		}

		if !poolHolds(t, e, a.id) {
			t.Fatal("the pool must hold pod a's range while it runs")
		}
		a.remove()
		if poolHolds(t, e, a.id) {
			t.Fatal("removing the pod must return its range to the pool")
		}
		t.Logf("containerd %s: pod a at %d, pod b at %d; range kept across a guard restart, returned on removal", e.version, startA, startB)
	})
}

func startContainer(t *testing.T, e *env, p *pod, extra map[string]any) string {
	t.Helper()
	if extra == nil {
		extra = map[string]any{}
	}
	id, err := p.create(extra)
	if err != nil {
		t.Fatalf("create in %s: %v\ndecisions: %v", p.name, err, e.decisionsFor(p.name))
	}
	if _, err := e.crictl("start", id); err != nil {
		t.Fatalf("start in %s: %v\ndecisions: %v", p.name, err, e.decisionsFor(p.name))
	}
	return id
}

// checkRemapped asserts that the container runs as uid 0 inside and as a
// pool uid on the node, and returns the first host id of its range.
func checkRemapped(t *testing.T, e *env, id string) uint32 {
	t.Helper()
	if out, err := e.crictl("exec", id, "id", "-u"); err != nil || out != "0" {
		t.Fatalf("id -u inside: %q %v, want 0", out, err)
	}
	out, err := e.crictl("exec", id, "cat", "/proc/self/uid_map")
	must(t, err)
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "0" || f[2] != "65536" {
		t.Fatalf("uid_map %q, want one range of 65536 from 0", out)
	}
	start, err := strconv.ParseUint(f[1], 10, 32)
	must(t, err)
	if start < poolFirst {
		t.Fatalf("range starts at %d, below the pool's floor %d", start, poolFirst)
	}
	if uid := hostUID(t, e, id); uid != uint32(start) {
		t.Fatalf("the container's process is uid %d on the node, want %d", uid, start)
	}
	return uint32(start)
}

// hostUID reads the container process's real uid from the node's /proc.
func hostUID(t *testing.T, e *env, id string) uint32 {
	t.Helper()
	out, err := e.crictl("inspect", "-o", "json", id)
	must(t, err)
	var doc struct {
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	must(t, json.Unmarshal([]byte(out), &doc))
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", doc.Info.Pid))
	must(t, err)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, err := strconv.ParseUint(strings.Fields(rest)[0], 10, 32)
			must(t, err)
			return uint32(uid)
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", doc.Info.Pid)
	return 0
}

func fileOwner(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	must(t, err)
	return fi.Sys().(*syscall.Stat_t).Uid
}

func poolHolds(t *testing.T, e *env, sandboxID string) bool {
	t.Helper()
	data, err := os.ReadFile(e.path("userns", "pool.json"))
	must(t, err)
	return strings.Contains(string(data), sandboxID)
}
