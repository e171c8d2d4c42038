// Command mkimage writes an OCI image layout as a tar file that
// `ctr images import` loads, so the e2e suite needs no registry.
//
//	mkimage --ref localhost/e2e/busybox:1 --out busybox.tar \
//	  --file /bin/busybox:/bin/busybox --symlink /bin/sh:busybox \
//	  --dir /tmp --entrypoint /bin/sh
//
// Images of real workloads need more than that, and mkimage gives it:
// whole trees from a host directory (an unpacked .deb), each entry's
// owner and mode, file capabilities (as the PAX xattr containerd applies
// to the snapshot) and the image config's User, Env, WorkingDir,
// Entrypoint, Cmd and ExposedPorts:
//
//	mkimage --ref localhost/e2e/coredns:1.14.7 --out coredns.tar \
//	  --file bin/coredns:/coredns:0:0:0755 --cap /coredns:cap_net_bind_service=+ep \
//	  --user 65532:65532 --entrypoint /coredns --expose 53/udp --expose 53/tcp
//
// The layer is reproducible: entries in path order, every mtime the Unix
// epoch, owners by number only, tree entries root-owned unless --attr
// says otherwise (the build user's ids never leak into the image).
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type options struct {
	ref, out         string
	files, links     listFlag
	dirs, entrypoint listFlag
	cmd, env         listFlag
	trees, attrs     listFlag
	caps, ports      listFlag
	user, workdir    string
}

func main() {
	var o options
	flag.StringVar(&o.ref, "ref", "", "image reference, e.g. localhost/e2e/busybox:1")
	flag.StringVar(&o.out, "out", "", "output tar file")
	flag.Var(&o.files, "file", "HOSTPATH:IMAGEPATH[:UID:GID[:OCTALMODE]] (repeatable; mode from the host file unless given, owner 0:0 unless given)")
	flag.Var(&o.links, "symlink", "IMAGEPATH:TARGET (repeatable)")
	flag.Var(&o.dirs, "dir", "IMAGEPATH[:OCTALMODE[:UID:GID]] directory to create, mode 0755 unless given (repeatable)")
	flag.Var(&o.trees, "tree", "HOSTDIR:IMAGEDIR copy a host directory tree (modes and symlinks kept, owner 0:0) (repeatable)")
	flag.Var(&o.attrs, "attr", "IMAGEPATH:UID:GID[:OCTALMODE] set an entry's owner (and mode) after everything is placed (repeatable)")
	flag.Var(&o.caps, "cap", "IMAGEPATH:CAPS file capabilities, e.g. /coredns:cap_net_bind_service=+ep (repeatable)")
	flag.Var(&o.entrypoint, "entrypoint", "entrypoint word (repeatable)")
	flag.Var(&o.cmd, "cmd", "cmd word (repeatable)")
	flag.Var(&o.env, "env", "KEY=VALUE (repeatable; PATH replaces the default /bin:/usr/bin)")
	flag.Var(&o.ports, "expose", "PORT[/PROTO] for the config's ExposedPorts, e.g. 53/udp (repeatable)")
	flag.StringVar(&o.user, "user", "", "image user")
	flag.StringVar(&o.workdir, "workdir", "/", "image working directory")
	flag.Parse()
	if o.ref == "" || o.out == "" {
		fmt.Fprintln(os.Stderr, "mkimage: --ref and --out are required")
		os.Exit(2)
	}
	if err := write(&o); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// epoch keeps the image reproducible.
var epoch = time.Unix(0, 0)

type blob struct {
	mediaType string
	data      []byte
}

func (b blob) digest() string {
	sum := sha256.Sum256(b.data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (b blob) descriptor() map[string]any {
	return map[string]any{"mediaType": b.mediaType, "digest": b.digest(), "size": len(b.data)}
}

func write(o *options) error {
	layerData, err := layer(o)
	if err != nil {
		return err
	}
	layerBlob := blob{"application/vnd.oci.image.layer.v1.tar", layerData}
	imageConfig, err := configOf(o)
	if err != nil {
		return err
	}
	cfg := map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": imageConfig,
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerBlob.digest()}},
	}
	cfgBlob, err := jsonBlob("application/vnd.oci.image.config.v1+json", cfg)
	if err != nil {
		return err
	}
	manifest, err := jsonBlob("application/vnd.oci.image.manifest.v1+json", map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": cfgBlob.descriptor(), "layers": []any{layerBlob.descriptor()},
	})
	if err != nil {
		return err
	}
	desc := manifest.descriptor()
	desc["annotations"] = map[string]string{"io.containerd.image.name": o.ref, "org.opencontainers.image.ref.name": o.ref[strings.LastIndex(o.ref, ":")+1:]}
	desc["platform"] = map[string]string{"architecture": runtime.GOARCH, "os": "linux"}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{desc}})
	if err != nil {
		return err
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	entries := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
	}
	for _, b := range []blob{layerBlob, cfgBlob, manifest} {
		entries = append(entries, struct {
			name string
			data []byte
		}{"blobs/sha256/" + strings.TrimPrefix(b.digest(), "sha256:"), b.data})
	}
	for _, e := range entries {
		if err := addFile(tw, e.name, e.data, 0o644); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	// Written aside and renamed: a build interrupted half way never
	// leaves a truncated image under the final name.
	tmp := o.out + ".tmp"
	if err := os.WriteFile(tmp, out.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, o.out)
}

// configOf is the image config's "config" object.
func configOf(o *options) (map[string]any, error) {
	cfg := map[string]any{
		"Entrypoint": nilIfEmpty(o.entrypoint), "Cmd": nilIfEmpty(o.cmd),
		"Env": mergeEnv(append([]string{"PATH=/bin:/usr/bin"}, o.env...)), "WorkingDir": o.workdir, "User": o.user,
	}
	if len(o.ports) > 0 {
		ports := map[string]struct{}{}
		for _, p := range o.ports {
			num, proto, hasProto := strings.Cut(p, "/")
			if !hasProto {
				proto = "tcp"
			}
			if n, err := strconv.ParseUint(num, 10, 16); err != nil || n == 0 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
				return nil, fmt.Errorf("--expose %q: want PORT[/tcp|udp|sctp]", p)
			}
			ports[num+"/"+proto] = struct{}{}
		}
		cfg["ExposedPorts"] = ports
	}
	return cfg, nil
}

// mergeEnv keeps one value per key, the last one given, at the place the
// key first appeared.
func mergeEnv(env []string) []string {
	at := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := at[k]; ok {
			out[i] = kv
			continue
		}
		at[k] = len(out)
		out = append(out, kv)
	}
	return out
}

func jsonBlob(mediaType string, v any) (blob, error) {
	data, err := json.Marshal(v)
	return blob{mediaType, data}, err
}

func nilIfEmpty(l listFlag) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// entry is one file system object of the layer: its header, and for a
// regular file where its content comes from.
type entry struct {
	hdr  tar.Header
	src  string // host file to copy; empty for directories and links
	data []byte // content when there is no src
}

// fsTree collects the layer's entries by image path (no leading slash)
// before anything is written, so a later source replaces an earlier one
// and the layer comes out in path order, parents first.
type fsTree map[string]*entry

// clean turns an image path into the tar name form, or "" for the root.
func clean(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// parents adds every missing parent directory of name, root-owned 0755.
func (t fsTree) parents(name string) {
	for d := path.Dir(name); d != "." && d != "/" && t[d] == nil; d = path.Dir(d) {
		t[d] = &entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}}
	}
}

// put places e at name (replacing what was there) with its parents.
func (t fsTree) put(name string, e *entry) error {
	if name == "" {
		return fmt.Errorf("the image root cannot be an entry")
	}
	if e.hdr.Typeflag == tar.TypeDir {
		e.hdr.Name = name + "/"
	} else {
		e.hdr.Name = name
	}
	e.hdr.ModTime = epoch
	t.parents(name)
	t[name] = e
	return nil
}

// layer builds the image's single file system layer.
func layer(o *options) ([]byte, error) {
	t := fsTree{}
	for _, spec := range o.trees {
		src, dst, ok := strings.Cut(spec, ":")
		if !ok {
			return nil, fmt.Errorf("--tree %q: want HOSTDIR:IMAGEDIR", spec)
		}
		if err := t.addTree(src, clean(dst)); err != nil {
			return nil, fmt.Errorf("--tree %q: %v", spec, err)
		}
	}
	for _, spec := range o.dirs {
		f := strings.Split(spec, ":")
		if len(f) != 1 && len(f) != 2 && len(f) != 4 {
			return nil, fmt.Errorf("--dir %q: want IMAGEPATH[:OCTALMODE[:UID:GID]]", spec)
		}
		e := &entry{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}}
		if len(f) >= 2 {
			if err := setMode(&e.hdr, f[1]); err != nil {
				return nil, fmt.Errorf("--dir %q: %v", spec, err)
			}
		}
		if len(f) == 4 {
			if err := setOwner(&e.hdr, f[2], f[3]); err != nil {
				return nil, fmt.Errorf("--dir %q: %v", spec, err)
			}
		}
		name := clean(f[0])
		if name == "" {
			continue // the root exists in every image
		}
		if err := t.put(name, e); err != nil {
			return nil, fmt.Errorf("--dir %q: %v", spec, err)
		}
	}
	for _, spec := range o.files {
		f := strings.Split(spec, ":")
		if len(f) != 2 && len(f) != 4 && len(f) != 5 {
			return nil, fmt.Errorf("--file %q: want HOSTPATH:IMAGEPATH[:UID:GID[:OCTALMODE]]", spec)
		}
		fi, err := os.Stat(f[0])
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("--file %q: %s is not a regular file", spec, f[0])
		}
		e := &entry{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: fileMode(fi.Mode()), Size: fi.Size()}, src: f[0]}
		if len(f) >= 4 {
			if err := setOwner(&e.hdr, f[2], f[3]); err != nil {
				return nil, fmt.Errorf("--file %q: %v", spec, err)
			}
		}
		if len(f) == 5 {
			if err := setMode(&e.hdr, f[4]); err != nil {
				return nil, fmt.Errorf("--file %q: %v", spec, err)
			}
		}
		if err := t.put(clean(f[1]), e); err != nil {
			return nil, fmt.Errorf("--file %q: %v", spec, err)
		}
	}
	for _, l := range o.links {
		name, target, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("--symlink %q: want IMAGEPATH:TARGET", l)
		}
		if err := t.put(clean(name), &entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}}); err != nil {
			return nil, fmt.Errorf("--symlink %q: %v", l, err)
		}
	}
	for _, spec := range o.attrs {
		f := strings.Split(spec, ":")
		if len(f) != 3 && len(f) != 4 {
			return nil, fmt.Errorf("--attr %q: want IMAGEPATH:UID:GID[:OCTALMODE]", spec)
		}
		e := t[clean(f[0])]
		if e == nil {
			return nil, fmt.Errorf("--attr %q: no such entry in the image", spec)
		}
		if err := setOwner(&e.hdr, f[1], f[2]); err != nil {
			return nil, fmt.Errorf("--attr %q: %v", spec, err)
		}
		if len(f) == 4 {
			if err := setMode(&e.hdr, f[3]); err != nil {
				return nil, fmt.Errorf("--attr %q: %v", spec, err)
			}
		}
	}
	for _, spec := range o.caps {
		name, text, ok := strings.Cut(spec, ":")
		if !ok {
			return nil, fmt.Errorf("--cap %q: want IMAGEPATH:CAPS", spec)
		}
		e := t[clean(name)]
		if e == nil || e.hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("--cap %q: no regular file %s in the image", spec, name)
		}
		value, err := fileCapability(text)
		if err != nil {
			return nil, fmt.Errorf("--cap %q: %v", spec, err)
		}
		// containerd's applier sets SCHILY.xattr.* records as xattrs on
		// the unpacked file; security.capability is what execve reads.
		e.hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(value)}
		e.hdr.Format = tar.FormatPAX
	}
	return t.write()
}

// addTree copies the host directory src into the image at dst.
func (t fsTree) addTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := clean(path.Join(dst, filepath.ToSlash(rel)))
		if name == "" {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := fileMode(fi.Mode())
		switch {
		case fi.IsDir():
			return t.put(name, &entry{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: mode}})
		case fi.Mode().IsRegular():
			return t.put(name, &entry{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Size: fi.Size()}, src: p})
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return t.put(name, &entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}})
		default:
			return fmt.Errorf("%s: only directories, regular files and symlinks go into an image", p)
		}
	})
}

// write emits the entries in path order: a parent sorts before its
// children ("a" is a prefix of "a/b").
func (t fsTree) write() ([]byte, error) {
	names := make([]string, 0, len(t))
	for name := range t {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range names {
		e := t[name]
		data := e.data
		if e.src != "" {
			var err error
			if data, err = os.ReadFile(e.src); err != nil {
				return nil, err
			}
		}
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(data))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func setOwner(h *tar.Header, uid, gid string) error {
	u, err := strconv.ParseUint(uid, 10, 32)
	if err != nil {
		return fmt.Errorf("uid %q: %v", uid, err)
	}
	g, err := strconv.ParseUint(gid, 10, 32)
	if err != nil {
		return fmt.Errorf("gid %q: %v", gid, err)
	}
	h.Uid, h.Gid = int(u), int(g)
	return nil
}

// setMode parses an octal mode, setuid, setgid and sticky bits included.
func setMode(h *tar.Header, text string) error {
	m, err := strconv.ParseUint(text, 8, 32)
	if err != nil || m > 0o7777 {
		return fmt.Errorf("mode %q: want octal up to 7777", text)
	}
	h.Mode = int64(m)
	return nil
}

func addFile(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: mode, ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// fileMode is the tar mode of a host file: its permissions and its
// setuid, setgid and sticky bits (the e2e image has a setuid-root probe).
func fileMode(m os.FileMode) int64 {
	mode := int64(m.Perm())
	if m&os.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// capabilityNumbers are the Linux capability numbers (linux/capability.h).
var capabilityNumbers = map[string]uint{
	"chown": 0, "dac_override": 1, "dac_read_search": 2, "fowner": 3, "fsetid": 4, "kill": 5,
	"setgid": 6, "setuid": 7, "setpcap": 8, "linux_immutable": 9, "net_bind_service": 10,
	"net_broadcast": 11, "net_admin": 12, "net_raw": 13, "ipc_lock": 14, "ipc_owner": 15,
	"sys_module": 16, "sys_rawio": 17, "sys_chroot": 18, "sys_ptrace": 19, "sys_pacct": 20,
	"sys_admin": 21, "sys_boot": 22, "sys_nice": 23, "sys_resource": 24, "sys_time": 25,
	"sys_tty_config": 26, "mknod": 27, "lease": 28, "audit_write": 29, "audit_control": 30,
	"setfcap": 31, "mac_override": 32, "mac_admin": 33, "syslog": 34, "wake_alarm": 35,
	"block_suspend": 36, "audit_read": 37, "perfmon": 38, "bpf": 39, "checkpoint_restore": 40,
}

// fileCapability encodes capabilities in setcap's text form (clauses
// "cap_a,cap_b+ep" or "cap_a=ep", separated by spaces) as the
// security.capability xattr in the VFS v2 layout (what setcap writes
// outside a user namespace): magic and effective flag, then permitted
// and inheritable as two 32-bit halves each, little endian.
func fileCapability(text string) ([]byte, error) {
	var permitted, inheritable uint64
	effective := false
	clauses := strings.Fields(text)
	if len(clauses) == 0 {
		return nil, fmt.Errorf("no capabilities given")
	}
	for _, clause := range clauses {
		i := strings.IndexAny(clause, "=+-")
		if i <= 0 {
			return nil, fmt.Errorf("%q: want cap_name[,cap_name]=flags or +flags", clause)
		}
		var bits uint64
		for _, name := range strings.Split(clause[:i], ",") {
			n, ok := capabilityNumbers[strings.TrimPrefix(strings.ToLower(name), "cap_")]
			if !ok {
				return nil, fmt.Errorf("unknown capability %q", name)
			}
			bits |= 1 << n
		}
		op, flags := clause[i], clause[i+1:]
		if op == '=' {
			// "cap=ep" is "cap+ep"; "cap=+ep" too.
			flags = strings.TrimPrefix(flags, "+")
			op = '+'
		}
		if op == '-' {
			return nil, fmt.Errorf("%q: removing capabilities makes no sense for a new file", clause)
		}
		if flags == "" {
			return nil, fmt.Errorf("%q: no flags (e, p, i)", clause)
		}
		for _, f := range flags {
			switch f {
			case 'e':
				effective = true
			case 'p':
				permitted |= bits
			case 'i':
				inheritable |= bits
			default:
				return nil, fmt.Errorf("%q: unknown flag %q", clause, f)
			}
		}
	}
	const revision2, flagEffective = 0x02000000, 0x000001
	magic := uint32(revision2)
	if effective {
		magic |= flagEffective
	}
	out := make([]byte, 20)
	binary.LittleEndian.PutUint32(out[0:], magic)
	binary.LittleEndian.PutUint32(out[4:], uint32(permitted))
	binary.LittleEndian.PutUint32(out[8:], uint32(inheritable))
	binary.LittleEndian.PutUint32(out[12:], uint32(permitted>>32))
	binary.LittleEndian.PutUint32(out[16:], uint32(inheritable>>32))
	return out, nil
}
