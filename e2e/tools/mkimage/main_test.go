package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// image is a written image read back: the layer's headers and contents
// by name, and the config's "config" object.
type image struct {
	headers  map[string]*tar.Header
	contents map[string]string
	order    []string
	config   map[string]any
	raw      []byte
}

func readImage(t *testing.T, file string) image {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		blobs[h.Name] = data
	}
	var index struct{ Manifests []struct{ Digest string } }
	mustJSON(t, blobs["index.json"], &index)
	blob := func(digest string) []byte {
		return blobs["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")]
	}
	var manifest struct {
		Config struct{ Digest string }
		Layers []struct{ Digest string }
	}
	mustJSON(t, blob(index.Manifests[0].Digest), &manifest)
	var cfg struct {
		Config map[string]any
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	mustJSON(t, blob(manifest.Config.Digest), &cfg)
	if cfg.RootFS.DiffIDs[0] != manifest.Layers[0].Digest {
		t.Fatalf("diff_id %s is not the layer's digest %s", cfg.RootFS.DiffIDs[0], manifest.Layers[0].Digest)
	}
	img := image{headers: map[string]*tar.Header{}, contents: map[string]string{}, config: cfg.Config, raw: raw}
	lr := tar.NewReader(bytes.NewReader(blob(manifest.Layers[0].Digest)))
	for {
		h, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(lr)
		img.headers[h.Name], img.contents[h.Name] = h, string(data)
		img.order = append(img.order, h.Name)
	}
	return img
}

func mustJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
}

// fixture makes a host tree as dpkg-deb -x leaves it, and a binary.
func fixture(t *testing.T) (dir, tree, bin string) {
	dir = t.TempDir()
	tree = filepath.Join(dir, "stage")
	for _, d := range []string{"usr/sbin", "etc/nginx", "var/lib/nginx"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "usr/sbin/nginx"), []byte("ELF nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "etc/nginx/nginx.conf"), []byte("events {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../sbin/nginx", filepath.Join(tree, "usr/sbin/nginx-link")); err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "coredns")
	if err := os.WriteFile(bin, []byte("ELF coredns"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, tree, bin
}

func TestOwnersModesTreesAndCapabilities(t *testing.T) {
	dir, tree, bin := fixture(t)
	o := options{ref: "localhost/e2e/x:1", out: filepath.Join(dir, "x.tar"),
		trees: listFlag{tree + ":/"},
		files: listFlag{bin + ":/coredns:65532:65532:0755", bin + ":/plain"},
		dirs:  listFlag{"/var/lib/nginx:0750:33:33", "/tmp:1777", "/data"},
		links: listFlag{"/bin/sh:busybox"},
		attrs: listFlag{"/etc/nginx/nginx.conf:0:33:0640"},
		caps:  listFlag{"/coredns:cap_net_bind_service=+ep"},
	}
	if err := write(&o); err != nil {
		t.Fatal(err)
	}
	img := readImage(t, o.out)
	check := func(name string, typ byte, uid, gid int, mode int64) *tar.Header {
		t.Helper()
		h := img.headers[name]
		if h == nil {
			t.Fatalf("no entry %s; have %v", name, img.order)
		}
		if h.Typeflag != typ || h.Uid != uid || h.Gid != gid || h.Mode != mode {
			t.Fatalf("%s: type %c uid %d gid %d mode %o, want %c %d %d %o", name, h.Typeflag, h.Uid, h.Gid, h.Mode, typ, uid, gid, mode)
		}
		if !h.ModTime.Equal(epoch) || h.Uname != "" || h.Gname != "" {
			t.Fatalf("%s: mtime %v uname %q gname %q: not reproducible", name, h.ModTime, h.Uname, h.Gname)
		}
		return h
	}
	h := check("coredns", tar.TypeReg, 65532, 65532, 0o755)
	if img.contents["coredns"] != "ELF coredns" {
		t.Fatalf("coredns content %q", img.contents["coredns"])
	}
	capValue := h.PAXRecords["SCHILY.xattr.security.capability"]
	want := make([]byte, 20)
	binary.LittleEndian.PutUint32(want, 0x02000001) // revision 2, effective
	binary.LittleEndian.PutUint32(want[4:], 1<<10)  // permitted: CAP_NET_BIND_SERVICE
	if capValue != string(want) {
		t.Fatalf("security.capability %x, want %x", capValue, want)
	}
	if _, ok := img.headers["plain"].PAXRecords["SCHILY.xattr.security.capability"]; ok {
		t.Fatal("a file without --cap carries a capability")
	}
	check("plain", tar.TypeReg, 0, 0, 0o700) // mode from the host, owner root
	check("usr/sbin/nginx", tar.TypeReg, 0, 0, 0o755)
	check("usr/sbin/", tar.TypeDir, 0, 0, 0o755)
	if l := check("usr/sbin/nginx-link", tar.TypeSymlink, 0, 0, 0o777); l.Linkname != "../sbin/nginx" {
		t.Fatalf("symlink target %q", l.Linkname)
	}
	check("var/lib/nginx/", tar.TypeDir, 33, 33, 0o750) // --dir wins over the tree
	check("etc/nginx/nginx.conf", tar.TypeReg, 0, 33, 0o640)
	check("tmp/", tar.TypeDir, 0, 0, 0o1777)
	check("data/", tar.TypeDir, 0, 0, 0o755)
	check("bin/", tar.TypeDir, 0, 0, 0o755) // a symlink's missing parent
	for i := 1; i < len(img.order); i++ {
		if img.order[i-1] >= img.order[i] {
			t.Fatalf("entries out of order: %q before %q", img.order[i-1], img.order[i])
		}
	}

	// Reproducible: the same inputs give the same bytes.
	if err := write(&o); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(o.out); !bytes.Equal(again, img.raw) {
		t.Fatal("a second build of the same inputs differs")
	}
}

func TestImageConfig(t *testing.T) {
	dir, _, bin := fixture(t)
	o := options{ref: "localhost/e2e/cfg:2", out: filepath.Join(dir, "cfg.tar"),
		files:      listFlag{bin + ":/coredns"},
		user:       "65532:65532",
		workdir:    "/srv",
		entrypoint: listFlag{"/coredns"},
		cmd:        listFlag{"-conf", "/etc/coredns/Corefile"},
		env:        listFlag{"A=1", "PATH=/usr/sbin:/usr/bin:/bin", "A=2"},
		ports:      listFlag{"53/udp", "53/tcp", "9153"},
	}
	if err := write(&o); err != nil {
		t.Fatal(err)
	}
	cfg := readImage(t, o.out).config
	want := map[string]any{
		"User": "65532:65532", "WorkingDir": "/srv",
		"Entrypoint": []any{"/coredns"}, "Cmd": []any{"-conf", "/etc/coredns/Corefile"},
		"Env":          []any{"PATH=/usr/sbin:/usr/bin:/bin", "A=2"},
		"ExposedPorts": map[string]any{"53/udp": map[string]any{}, "53/tcp": map[string]any{}, "9153/tcp": map[string]any{}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("config %v\nwant   %v", cfg, want)
	}
}

// The e2e suite's flags keep their meaning: a bare --file takes the host
// mode (setuid too), --dir a bare mode, later --ref/--out win, and no
// ExposedPorts appear unless asked.
func TestExistingFlags(t *testing.T) {
	dir, _, bin := fixture(t)
	if err := os.Chmod(bin, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	o := options{ref: "localhost/e2e/busybox:1", out: filepath.Join(dir, "bb.tar"),
		files: listFlag{bin + ":/bin/suidprobe", bin + ":/coredns"}, dirs: listFlag{"/root:700", "/usr", "/usr"},
		links: listFlag{"/bin/sh:busybox"}, user: "0:0", cmd: listFlag{"/bin/sh"}, workdir: "/"}
	if err := write(&o); err != nil {
		t.Fatal(err)
	}
	img := readImage(t, o.out)
	if h := img.headers["bin/suidprobe"]; h == nil || h.Mode != 0o4755 {
		t.Fatalf("setuid probe: %+v", h)
	}
	if h := img.headers["root/"]; h == nil || h.Mode != 0o700 {
		t.Fatalf("/root: %+v", h)
	}
	if _, ok := img.config["ExposedPorts"]; ok {
		t.Fatal("ExposedPorts without --expose")
	}
	if env := img.config["Env"]; !reflect.DeepEqual(env, []any{"PATH=/bin:/usr/bin"}) {
		t.Fatalf("Env %v", env)
	}
}

func TestFileCapabilityText(t *testing.T) {
	for _, c := range []struct {
		text           string
		magic          uint32
		permitted, inh uint64
	}{
		{"cap_net_bind_service=+ep", 0x02000001, 1 << 10, 0},
		{"cap_net_bind_service=ep", 0x02000001, 1 << 10, 0},
		{"cap_net_admin,cap_net_raw+p", 0x02000000, 1<<12 | 1<<13, 0},
		{"cap_bpf+ei cap_chown+p", 0x02000001, 1, 1 << 39},
	} {
		v, err := fileCapability(c.text)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		le := binary.LittleEndian
		got := [3]uint64{uint64(le.Uint32(v)), uint64(le.Uint32(v[4:])) | uint64(le.Uint32(v[12:]))<<32, uint64(le.Uint32(v[8:])) | uint64(le.Uint32(v[16:]))<<32}
		if want := [3]uint64{uint64(c.magic), c.permitted, c.inh}; got != want {
			t.Fatalf("%q: magic, permitted, inheritable %x, want %x", c.text, got, want)
		}
	}
	for _, bad := range []string{"", "cap_nope+ep", "cap_chown", "cap_chown+x", "cap_chown-ep"} {
		if _, err := fileCapability(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestBadSpecs(t *testing.T) {
	dir, _, bin := fixture(t)
	for _, o := range []options{
		{files: listFlag{bin + ":/x:1"}},
		{files: listFlag{bin + ":/x:a:b"}},
		{dirs: listFlag{"/x:9"}},
		{attrs: listFlag{"/missing:0:0"}},
		{caps: listFlag{"/missing:cap_chown+ep"}},
		{ports: listFlag{"53/icmp"}},
	} {
		o.ref, o.out = "localhost/e2e/bad:1", filepath.Join(dir, "bad.tar")
		if err := write(&o); err == nil {
			t.Fatalf("%+v accepted", o)
		}
	}
}
