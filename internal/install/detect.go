package install

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"
)

// Node is what the installer learnt about the K3s node.
type Node struct {
	K3sVersion        string // "" when unknown (informational only)
	ContainerdVersion string // as K3s reports it, e.g. v2.2.9-k3s1
	// DropIns: K3s's generated config imports config-v3.toml.d/*.toml,
	// so a drop-in file is enough; otherwise a user template is needed.
	DropIns bool
	// ForeignPlugins are pre-registered NRI plugins in containerd's
	// default plugin directory.
	ForeignPlugins []string
	// Runtimes are the containerd runtimes K3s configured (runtimes.go),
	// DefaultRuntime the one pods without a RuntimeClass get.
	Runtimes       []Runtime
	DefaultRuntime string
	// Remap: the installed policy runs root containers in user
	// namespaces; RemapWhy says why it does or does not.
	Remap    bool
	RemapWhy string
}

// Validator reports whether this containerd has NRI's default validator
// (containerd 2.2+), which refuses containers while nri-guard is absent.
func (n Node) Validator() bool {
	return semver.Compare(release(n.ContainerdVersion), "v2.2.0") >= 0
}

// detect reads the node. Commands are run only for the real root: with
// --root they would describe this machine, not the tree being installed.
func detect(o *Options) (Node, error) {
	if fi, err := os.Stat(onNode(o.Root, k3sDataDir)); err != nil || !fi.IsDir() {
		return Node{}, fmt.Errorf("no K3s data directory at %s: is K3s installed on this node?", onNode(o.Root, k3sDataDir))
	}
	n := Node{K3sVersion: o.K3sVersion, ContainerdVersion: o.ContainerdVersion}
	if n.K3sVersion == "" && o.Root == "/" {
		n.K3sVersion = k3sVersionFrom(command("k3s", "--version"))
	}
	if n.ContainerdVersion == "" {
		n.ContainerdVersion = o.containerdVersion()
	}
	if err := checkContainerd(n.ContainerdVersion); err != nil {
		return n, err
	}
	var err error
	if n.DropIns, err = importsDropIns(o.Root); err != nil {
		return n, err
	}
	if n.Runtimes, n.DefaultRuntime, err = runtimesOf(o.Root); err != nil {
		return n, err
	}
	n.ForeignPlugins, err = listPlugins(onNode(o.Root, defaultNRIPluginDir))
	n.Remap, n.RemapWhy = decideRemap(o)
	return n, err
}

// command runs a K3s command; one that fails says nothing.
func command(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}

// k3sVersionFrom reads "k3s version v1.33.1+k3s1 (99d91538)".
func k3sVersionFrom(out string) string {
	f := strings.Fields(out)
	if len(f) >= 3 && f[0] == "k3s" && f[1] == "version" {
		return f[2]
	}
	return ""
}

// containerdVersion asks K3s's running containerd, else reads the last
// start line of its log (K3s may be stopped while it is being set up).
func (o *Options) containerdVersion() string {
	if o.Root == "/" {
		if v := serverVersionFrom(command("k3s", "ctr", "version")); v != "" {
			return v
		}
	}
	data, err := os.ReadFile(onNode(o.Root, containerdLog))
	if err != nil {
		return ""
	}
	return startedVersionFrom(data)
}

// serverVersionFrom reads the Version line of the Server section of
// `ctr version`.
func serverVersionFrom(out string) string {
	_, server, ok := strings.Cut(out, "Server:")
	if !ok {
		return ""
	}
	for _, line := range strings.Split(server, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

var startLine = regexp.MustCompile(`msg="starting containerd".* version=([^\s]+)`)

func startedVersionFrom(log []byte) string {
	v := ""
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if m := startLine.FindSubmatch(sc.Bytes()); m != nil {
			v = strings.Trim(string(m[1]), `"`)
		}
	}
	return v
}

func checkContainerd(v string) error {
	switch r := release(v); {
	case v == "":
		return errors.New("cannot tell K3s's containerd version: its containerd is not running and " +
			containerdLog + " has no start line; pass --containerd-version")
	case !semver.IsValid(r):
		return fmt.Errorf("containerd version %q is not a version (want e.g. v2.2.9-k3s1)", v)
	case semver.Compare(r, "v2.0.0") < 0:
		return fmt.Errorf("containerd %s: nri-guard's K3s installer needs containerd 2.0 or later "+
			"(K3s v1.31.6+k3s1, v1.32.2+k3s1 and later); older K3s renders a version 2 config.toml.tmpl it does not write", v)
	}
	return nil
}

// release reduces "v2.2.9-k3s1" or "2.2.9+unknown" to "v2.2.9", so a
// K3s suffix does not make a release count as a pre-release.
func release(v string) string {
	v = "v" + strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	return v
}

// dropInImport matches the imports line K3s renders into config.toml in
// releases that load config-v3.toml.d drop-ins.
var dropInImport = regexp.MustCompile(`(?m)^\s*imports\s*=.*config-v3\.toml\.d/`)

// importsDropIns reads K3s's generated containerd config: the witness of
// what this K3s release does, whatever its version says.
func importsDropIns(root string) (bool, error) {
	data, err := os.ReadFile(onNode(root, renderedConfig))
	if errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("K3s has not generated its containerd configuration (%s) yet: start K3s once, then install", onNode(root, renderedConfig))
	}
	return dropInImport.Match(data), err
}

func listPlugins(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, err
}
