package cases

import "slices"

// ImageFiles are the node's files the cases' images are made of.
type ImageFiles struct {
	Busybox   string // a static busybox
	Sysprobe  string // e2e/tools/sysprobe, built
	Suidprobe string // e2e/tools/suidprobe, built, setuid root
	Standin   string // e2e/tools/standin: stands in for K3s's programs
	Passwd    string // e2e/tools/passwd
	Group     string // e2e/tools/group
}

// BusyboxApplets are linked into the busybox image: what cases use in
// exec checks, what the cluster bed's own pods run (httpd, seq), and a
// shell's everyday tools.
var BusyboxApplets = []string{
	"sh", "ash", "cat", "cp", "cut", "echo", "env", "false", "grep", "head", "hostname",
	"httpd", "id", "ip", "kill", "ln", "ls", "mkdir", "mount", "mv", "ps", "readlink", "rm",
	"sed", "seq", "sleep", "stat", "tail", "test", "touch", "true", "umount", "uname", "unshare",
	"wc", "wget", "nc", "nslookup", "ping", "[",
}

// BusyboxImage is e2e/tools/mkimage's arguments for DefaultImage,
// written to out.
func BusyboxImage(out string, f ImageFiles) []string {
	args := []string{"--ref", DefaultImage, "--out", out,
		"--file", f.Busybox + ":/bin/busybox", "--file", f.Sysprobe + ":/bin/sysprobe", "--file", f.Suidprobe + ":/bin/suidprobe",
		"--dir", "/tmp:1777", "--dir", "/data", "--dir", "/root:700", "--dir", "/www",
		// what the read-only root's scratch keeps writable, a directory of
		// another owner in it, and the attack shape of a scratch
		// directory linked to /etc (e2e/scratch_test.go)
		"--dir", "/run", "--dir", "/var", "--dir", "/var/tmp:1777", "--dir", "/var/cache", "--dir", "/var/lib", "--dir", "/var/lib/app:750:33:33",
		"--symlink", "/var/log:/etc",
		"--file", f.Passwd + ":/etc/passwd", "--file", f.Group + ":/etc/group",
		"--user", "0:0", "--cmd", "/bin/sh"}
	for _, applet := range BusyboxApplets {
		args = append(args, "--symlink", "/bin/"+applet+":busybox")
	}
	return args
}

// K3sImageNames are busybox images under the names of K3s's system
// images, so the k3s-system preset's exceptions (which select by image)
// apply to the pods modelled on those components. Each is an image of
// its own: containerd names a container's image by the image's first
// reference, so one image under several tags would carry one name.
var K3sImageNames = []string{
	"docker.io/rancher/klipper-lb:e2e",
	"docker.io/rancher/mirrored-coredns-coredns:e2e",
	"docker.io/rancher/mirrored-library-busybox:e2e",
	"docker.io/rancher/mirrored-metrics-server:e2e",
	"docker.io/rancher/mirrored-library-traefik:e2e",
	// a look-alike: K3s's repository path under another registry
	"evil.example/x/rancher/mirrored-coredns-coredns:1",
}

// StandinImage is mkimage's arguments for the busybox image under ref,
// with the programs under the command lines the k3s-system preset pins.
// Later flags win; the environment variable makes the image's digest
// its own.
func StandinImage(ref, out string, f ImageFiles) []string {
	return append(slices.Clone(BusyboxImage(out, f)), "--ref", ref, "--env", "E2E_IMAGE="+ref,
		"--dir", "/usr", "--dir", "/usr/bin", "--dir", "/script", "--file", f.Standin+":/coredns",
		"--file", f.Standin+":/usr/bin/entry", "--file", f.Standin+":/script/setup", "--file", f.Standin+":/script/teardown")
}
