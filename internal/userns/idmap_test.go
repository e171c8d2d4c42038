package userns

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv(HolderEnv) == "1" {
		os.Exit(Hold()) // the test binary as the prober's holder
	}
	os.Exit(m.Run())
}

// mountsForProbe mounts a tmpfs and an overlay on it below a temporary
// directory: on this kernel (6.3 and later) the first can be idmapped,
// the second cannot.
func mountsForProbe(t *testing.T) (tmpfs, overlay string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts and a new user namespace")
	}
	dir := t.TempDir()
	tmpfs = filepath.Join(dir, "tmpfs")
	overlay = filepath.Join(dir, "overlay")
	for _, d := range []string{tmpfs, overlay} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(tmpfs, unix.MNT_DETACH) })
	for _, d := range []string{"lower", "upper", "work"} {
		os.Mkdir(filepath.Join(tmpfs, d), 0o755)
	}
	opts := "lowerdir=" + tmpfs + "/lower,upperdir=" + tmpfs + "/upper,workdir=" + tmpfs + "/work"
	if err := unix.Mount("overlay", overlay, "overlay", 0, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(overlay, unix.MNT_DETACH) })
	return tmpfs, overlay
}

func TestProberTellsWhatCanBeIDMapped(t *testing.T) {
	tmpfs, overlay := mountsForProbe(t)
	var uts unix.Utsname
	unix.Uname(&uts)
	cache := t.TempDir()
	p := NewProber("/proc/self/exe", cache)
	defer p.Close()
	for _, tc := range []struct {
		path, fs string
		ok       bool
	}{{tmpfs, "tmpfs", true}, {overlay, "overlay", false}, {"/proc/self", "proc", false}} {
		ok, fs, err := p.CanIDMap(tc.path)
		if err != nil || ok != tc.ok || fs != tc.fs {
			t.Errorf("%s: idmappable %v on %q (%v), want %v on %q (kernel %s)", tc.path, ok, fs, err, tc.ok, tc.fs, unix.ByteSliceToString(uts.Release[:]))
		}
	}
	if _, _, err := p.CanIDMap(filepath.Join(tmpfs, "missing")); err == nil {
		t.Error("a missing source: want an error")
	}
	// A second prober answers from the kept answers, starting no holder.
	again := NewProber("/nonexistent-holder", cache)
	defer again.Close()
	for path, want := range map[string]bool{tmpfs: true, overlay: false} {
		if ok, _, err := again.CanIDMap(path); err != nil || ok != want || again.holder != nil {
			t.Errorf("%s from the kept answers: %v %v (holder started: %v)", path, ok, err, again.holder != nil)
		}
	}
}

func TestUnmappableNamesOnlyIDMappedBindsItCannotMap(t *testing.T) {
	tmpfs, overlay := mountsForProbe(t)
	p := NewProber("/proc/self/exe", "")
	defer p.Close()
	parent := filepath.Dir(tmpfs) // holds both mounts
	inner := filepath.Join(tmpfs, "inner")
	os.Mkdir(inner, 0o755)
	if err := unix.Mount("tmpfs", inner, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(inner, unix.MNT_DETACH)
	idmapped := []string{"rbind", "idmap"}
	spec := &specs.Spec{Mounts: []specs.Mount{
		{Destination: "/a", Type: "bind", Source: filepath.Join(tmpfs, "lower"), Options: idmapped},
		{Destination: "/b", Type: "bind", Source: overlay, Options: idmapped},
		{Destination: "/c", Type: "bind", Source: overlay, Options: []string{"rbind"}}, // no idmap asked
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/d", Type: "bind", Source: parent, Options: idmapped}, // the overlay is below it
		{Destination: "/e", Type: "bind", Source: tmpfs, Options: idmapped},  // a tmpfs below it
	}}
	got, err := Unmappable(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]Finding{1: {FS: "overlay"}, 4: {FS: "overlay", Below: overlay, Submounts: true}, 5: {Submounts: true}}
	if !maps.Equal(got, want) {
		t.Fatalf("unmappable %+v, want %+v", got, want)
	}
	DropIDMap(spec, 1)
	if !slices.Equal(spec.Mounts[1].Options, []string{"rbind"}) || !slices.Equal(spec.Mounts[0].Options, idmapped) {
		t.Errorf("after DropIDMap(1): %v", spec.Mounts)
	}
	IDMapRecursively(spec, 5)
	if !slices.Equal(spec.Mounts[5].Options, []string{"rbind", "ridmap"}) {
		t.Errorf("after IDMapRecursively(5): %v", spec.Mounts[5].Options)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/a\040b/c\134d\0`); got != `/a b/c\d\0` {
		t.Errorf("unescaped %q", got)
	}
}

// The prober's cost at a create: a holder process started in a new user
// namespace and one probe.
func BenchmarkProber(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for b.Loop() {
		p := NewProber("/proc/self/exe", "")
		if _, _, err := p.CanIDMap("/"); err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}
