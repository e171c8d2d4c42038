package wrapper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// withPinRoot moves pinRoot into the test's directory, on a tmpfs as
// /run is; pinning mounts, so it needs root. Everything is unmounted at
// the end.
func withPinRoot(t testing.TB, dir string) {
	if os.Geteuid() != 0 {
		t.Skip("pinning mounts: needs root")
	}
	run := filepath.Join(dir, "run")
	must(t, os.MkdirAll(run, 0o755))
	must(t, unix.Mount("tmpfs", run, "tmpfs", 0, "size=1m"))
	old := pinRoot
	pinRoot = filepath.Join(run, "nri-guard", "pins")
	t.Cleanup(func() {
		if entries, err := os.ReadDir(pinRoot); err == nil {
			for _, e := range entries {
				unpinDir(filepath.Join(pinRoot, e.Name()))
			}
		}
		unix.Unmount(pinRoot, unix.MNT_DETACH)
		unix.Unmount(run, unix.MNT_DETACH)
		pinRoot = old
	})
}

func bindSpec(mounts ...specs.Mount) *specs.Spec {
	s := appSpec("default")
	s.Mounts = mounts
	return s
}

func bind(src, dest string) specs.Mount {
	return specs.Mount{Source: src, Destination: dest, Type: "bind", Options: []string{"rbind", "rw"}}
}

// TestPinKeepsTheJudgedDirectory: the victim's volume is judged and
// pinned; the racer then swaps it for a symlink to a directory standing
// in for the node's root. The mount source handed to runc still shows
// the volume, never the node.
func TestPinKeepsTheJudgedDirectory(t *testing.T) {
	f := newFixture(t)
	withPinRoot(t, f.dir)
	vol, node := filepath.Join(f.dir, "vol"), filepath.Join(f.dir, "node")
	must(t, os.MkdirAll(filepath.Join(vol, "sub"), 0o755))
	must(t, os.MkdirAll(node, 0o755))
	must(t, os.WriteFile(filepath.Join(vol, "sub", "mine"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(node, "canary"), nil, 0o644))
	hosts := filepath.Join(f.dir, "hosts")
	must(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644))
	f.writeSpec(t, bindSpec(bind(filepath.Join(vol, "sub"), "/data"), bind(hosts, "/etc/hosts"),
		specs.Mount{Source: "tmpfs", Destination: "/tmp", Type: "tmpfs"}))

	if msg := f.create("c1"); msg != "" {
		t.Fatal(msg)
	}
	s := f.readSpec(t)
	pinned, hostsPin, tmp := mountAt(t, s, "/data").Source, mountAt(t, s, "/etc/hosts").Source, mountAt(t, s, "/tmp").Source
	pins := filepath.Join(pinRoot, "c1") + "/"
	if !strings.HasPrefix(pinned, pins) || !strings.HasPrefix(hostsPin, pins) || pinned == hostsPin || tmp != "tmpfs" {
		t.Fatalf("sources handed to runc: %q %q %q", pinned, hostsPin, tmp)
	}

	// The swap, after the check.
	must(t, os.Rename(filepath.Join(vol, "sub"), filepath.Join(vol, "was-sub")))
	must(t, os.Symlink(node, filepath.Join(vol, "sub")))
	if _, err := os.Stat(filepath.Join(pinned, "mine")); err != nil {
		t.Fatalf("the pin must show the judged directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pinned, "canary")); err == nil {
		t.Fatal("the pin shows the swapped-in directory")
	}
	if data, err := os.ReadFile(hostsPin); err != nil || string(data) != "127.0.0.1 localhost\n" {
		t.Fatalf("a file source is pinned as that file: %q %v", data, err)
	}
	if m, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(pinRoot)); err != nil || len(m) != 1 || strings.Contains(m[0].Optional, "shared:") {
		t.Fatalf("the pin root must be a private mount: %+v %v", m, err)
	}

	// Swapped before the check: judged as what it names, the node's
	// directory, and refused as a host mount of it.
	f.cfg.Policy = writePolicy(t, f.dir, "controls:\n  hostMounts:\n    extraPaths: ["+node+"]\n")
	f.writeSpec(t, bindSpec(bind(filepath.Join(vol, "sub"), "/data")))
	if msg := f.create("c2"); !strings.Contains(msg, "mounts[/data].source = "+node+":") {
		t.Fatalf("a source that is a symlink must be judged as its target %s: %q", node, msg)
	}
	if _, err := os.Lstat(filepath.Join(pinRoot, "c2")); !os.IsNotExist(err) {
		t.Fatalf("a refused container must leave no pins: %v", err)
	}

	releasePins("c1")
	if _, err := os.Lstat(filepath.Join(pinRoot, "c1")); !os.IsNotExist(err) {
		t.Fatalf("delete must remove the pins: %v", err)
	}
}

// TestOpenSourceRefusesMagicLinks: /proc/<pid>/root can name another
// mount namespace's files by a path that looks like the node's.
func TestOpenSourceRefusesMagicLinks(t *testing.T) {
	if _, _, _, err := openSource("/proc/self/root/etc"); err == nil {
		t.Fatal("a source through a /proc magic link must not open")
	}
	fd, real, dir, err := openSource("/proc/self/../self/..") // "/proc" itself: no magic link crossed
	if err != nil || real != "/proc" || !dir {
		t.Fatalf("%q %v %v", real, dir, err)
	}
	unix.Close(fd)
}

// TestSweepRemovesPinsOfGoneContainers: pins whose container runc no
// longer knows go once they are older than a create can take.
func TestSweepRemovesPinsOfGoneContainers(t *testing.T) {
	dir := t.TempDir()
	withPinRoot(t, dir)
	must(t, os.MkdirAll(pinRoot, 0o700))
	runc := filepath.Join(dir, "runc")
	must(t, os.MkdirAll(filepath.Join(runc, "alive"), 0o700))
	old := time.Now().Add(-time.Hour)
	for _, id := range []string{"alive", "gone", "creating"} {
		d := filepath.Join(pinRoot, id)
		must(t, os.MkdirAll(filepath.Join(d, "0"), 0o700))
		must(t, os.Symlink(filepath.Join(runc, id), filepath.Join(d, pinStateLink)))
		if id != "creating" {
			must(t, os.Chtimes(d, old, old))
		}
	}
	sweepPins(time.Now())
	for id, want := range map[string]bool{"alive": true, "gone": false, "creating": true} {
		if _, err := os.Lstat(filepath.Join(pinRoot, id)); (err == nil) != want {
			t.Errorf("pins of %s kept = %v, want %v", id, err == nil, want)
		}
	}
}

func writePolicy(t *testing.T, dir, body string) string {
	p := filepath.Join(dir, "policy2.yaml")
	must(t, os.WriteFile(p, []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n"+body), 0o644))
	return p
}

// mountAt is the spec's mount at dest; the guard adds its own (a read-only
// root's scratch tmpfs) in front, so tests find theirs by destination.
func mountAt(t *testing.T, s *specs.Spec, dest string) specs.Mount {
	t.Helper()
	for _, m := range s.Mounts {
		if m.Destination == dest {
			return m
		}
	}
	t.Fatalf("no mount at %s in %+v", dest, s.Mounts)
	return specs.Mount{}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPinsAreNoWayIn: a pin is a path on the node. The pin of a read-only
// mount is read-only itself (else whoever reaches it writes what the
// container may only read), and no container may mount another's pin,
// whatever the policy allows (red team: a pod mounting /run/nri-guard
// wrote the node's /etc through a writable pin of a read-only mount).
func TestPinsAreNoWayIn(t *testing.T) {
	f := newFixture(t)
	withPinRoot(t, f.dir)
	vol := filepath.Join(f.dir, "vol")
	must(t, os.MkdirAll(vol, 0o755))
	ro := bind(vol, "/ro")
	ro.Options = []string{"rbind", "ro"}
	f.writeSpec(t, bindSpec(ro, bind(vol, "/rw")))
	if msg := f.create("c1"); msg != "" {
		t.Fatal(msg)
	}
	s := f.readSpec(t)
	if err := os.WriteFile(filepath.Join(mountAt(t, s, "/ro").Source, "x"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("writing through the pin of a read-only mount: %v, want EROFS", err)
	}
	if err := os.WriteFile(filepath.Join(mountAt(t, s, "/rw").Source, "x"), nil, 0o644); err != nil {
		t.Fatalf("the pin of a writable mount must stay writable: %v", err)
	}

	f.writeSpec(t, bindSpec(bind(filepath.Join(pinRoot, "c1", "1"), "/stolen")))
	if msg := f.create("c2"); !strings.Contains(msg, "the pin of another container's mount") {
		t.Fatalf("a mount of another container's pin must be refused: %q", msg)
	}
}

// A private pin takes no mount made below its source afterwards (the
// second red team's R13): for a container in a user namespace, such a
// mount would reach it without the idmap. A pin of the shared source
// that is not private does take it, so the test can tell.
func TestPrivatePinTakesNoLaterMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts: needs root")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	must(t, os.MkdirAll(src, 0o755))
	must(t, unix.Mount("tmpfs", src, "tmpfs", 0, "size=64k"))
	defer unix.Unmount(src, unix.MNT_DETACH)
	must(t, unix.Mount("", src, "", unix.MS_SHARED, ""))
	must(t, os.Mkdir(filepath.Join(src, "late"), 0o755))
	fd, err := unix.Open(src, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(fd)
	for _, private := range []bool{false, true} {
		pin := filepath.Join(dir, fmt.Sprintf("pin-%v", private))
		must(t, pinOne(fd, pin, true, false, private))
		defer unix.Unmount(pin, unix.MNT_DETACH)
	}
	late := filepath.Join(src, "late")
	must(t, unix.Mount("tmpfs", late, "tmpfs", 0, "size=64k"))
	defer unix.Unmount(late, unix.MNT_DETACH)
	must(t, os.WriteFile(filepath.Join(late, "f"), nil, 0o644))
	if _, err := os.Stat(filepath.Join(dir, "pin-false", "late", "f")); err != nil {
		t.Fatalf("the shared pin did not take the later mount, so the test proves nothing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pin-true", "late", "f")); err == nil {
		t.Fatal("the private pin took a mount made after it")
	}
}
