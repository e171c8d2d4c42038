// Command mkimage writes an OCI image layout as a tar file that
// `ctr images import` loads, so the e2e suite needs no registry.
//
//	mkimage --ref localhost/e2e/busybox:1 --out busybox.tar \
//	  --file /bin/busybox:/bin/busybox --symlink /bin/sh:busybox \
//	  --dir /tmp --entrypoint /bin/sh
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
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
	user             string
}

func main() {
	var o options
	flag.StringVar(&o.ref, "ref", "", "image reference, e.g. localhost/e2e/busybox:1")
	flag.StringVar(&o.out, "out", "", "output tar file")
	flag.Var(&o.files, "file", "HOSTPATH:IMAGEPATH (repeatable)")
	flag.Var(&o.links, "symlink", "IMAGEPATH:TARGET (repeatable)")
	flag.Var(&o.dirs, "dir", "IMAGEPATH[:OCTALMODE] directory to create, mode 0755 unless given (repeatable)")
	flag.Var(&o.entrypoint, "entrypoint", "entrypoint word (repeatable)")
	flag.Var(&o.cmd, "cmd", "cmd word (repeatable)")
	flag.Var(&o.env, "env", "KEY=VALUE (repeatable)")
	flag.StringVar(&o.user, "user", "", "image user")
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
	cfg := map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": nilIfEmpty(o.entrypoint), "Cmd": nilIfEmpty(o.cmd), "Env": append([]string{"PATH=/bin:/usr/bin"}, o.env...), "WorkingDir": "/", "User": o.user},
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
	return os.WriteFile(o.out, out.Bytes(), 0o644)
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

// layer builds the image's single file system layer.
func layer(o *options) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	made := map[string]bool{}
	// mkdir writes directory d (and its missing parents, 0755) once.
	var mkdir func(d string, mode int64) error
	mkdir = func(d string, mode int64) error {
		if d == "/" || d == "." || made[d] {
			return nil
		}
		if err := mkdir(path.Dir(d), 0o755); err != nil {
			return err
		}
		made[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: mode, ModTime: epoch})
	}
	mkdirs := func(p string) error { return mkdir(path.Dir(p), 0o755) }
	for _, spec := range o.dirs {
		d, modeText, hasMode := strings.Cut(spec, ":")
		mode := int64(0o755)
		if hasMode {
			m, err := strconv.ParseInt(modeText, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("--dir %q: %v", spec, err)
			}
			mode = m
		}
		if err := mkdir(path.Clean(d), mode); err != nil {
			return nil, err
		}
	}
	for _, f := range o.files {
		src, dst, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("--file %q: want HOSTPATH:IMAGEPATH", f)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if err := mkdirs(dst); err != nil {
			return nil, err
		}
		if err := addFile(tw, strings.TrimPrefix(dst, "/"), data, fileMode(fi.Mode())); err != nil {
			return nil, err
		}
	}
	for _, l := range o.links {
		name, target, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("--symlink %q: want IMAGEPATH:TARGET", l)
		}
		if err := mkdirs(name); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(name, "/"), Linkname: target, Mode: 0o777, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addFile(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: mode, ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// fileMode is the tar mode of a host file: its permissions and its
// setuid and setgid bits (the e2e image has a setuid-root probe).
func fileMode(m os.FileMode) int64 {
	mode := int64(m.Perm())
	if m&os.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		mode |= 0o2000
	}
	return mode
}
