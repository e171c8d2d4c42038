//go:build e2e_cluster

package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

// The node's addresses, all from the benchmarking range 198.18.0.0/15,
// and nothing routed off the machine.
const (
	nodeName            = "nrig-node"
	nodeIP              = "198.19.255.1"
	podCIDR             = "198.19.7.0/24"
	serviceCIDR         = "198.19.128.0/24"
	kubernetesServiceIP = "198.19.128.1"
	clusterDNSIP        = "198.19.128.10"
	// The pods' resolver when CoreDNS forwards: an address no route
	// leads to, so a name CoreDNS does not know never leaves the bed.
	upstreamResolver = "198.18.255.254"
)

// K3s's paths on the node, which the bed uses as they are: they lie on
// the overlays, so nothing lands on the machine.
const (
	k3sDataDir       = "/var/lib/rancher/k3s"
	k3sBinDir        = k3sDataDir + "/data/current/bin" // the bundled runc
	k3sCNIBinDir     = k3sDataDir + "/data/cni"
	k3sCNIConfDir    = k3sDataDir + "/agent/etc/cni/net.d"
	k3sContainerdCfg = k3sDataDir + "/agent/etc/containerd/config.toml"
	staticPodDir     = k3sDataDir + "/agent/pod-manifests"
	containerdSocket = "/run/k3s/containerd/containerd.sock"
	decisionLogPath  = "/var/log/nri-guard/decisions.jsonl"
)

// bed is the one-node cluster: a holder process owning the private
// network and mount namespace, and the daemons run inside it.
type bed struct {
	root, token string
	holder      *testhost.Proc
	mntNS       string // the holder's mount namespace, for the sweep
	daemons     []*testhost.Proc
	binDir      string // pause, nri-guard, images built for this run
	images      map[string]string

	pauseBin, guardBin, kubectlCfg string
}

func (b *bed) path(parts ...string) string {
	return filepath.Join(append([]string{b.root}, parts...)...)
}

// onNode is a node path as the bed's namespace sees it, reached through
// the holder's root (/proc/PID/root resolves paths in its mount
// namespace): the test reads and writes the overlaid /etc, /var and /run
// this way without entering the namespace.
func (b *bed) onNode(nodePath string) string {
	return fmt.Sprintf("/proc/%d/root%s", b.holder.Pid(), nodePath)
}

func (b *bed) writeOnNode(nodePath, content string, mode os.FileMode) error {
	p := b.onNode(nodePath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), mode)
}

func (b *bed) copyOnNode(src, nodePath string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	p := b.onNode(nodePath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// inNode is a command run in the bed's network and mount namespace.
func (b *bed) inNode(name string, args ...string) *exec.Cmd {
	pid := b.holder.Pid()
	return exec.Command("nsenter", append([]string{fmt.Sprintf("--mount=/proc/%d/ns/mnt", pid),
		fmt.Sprintf("--net=/proc/%d/ns/net", pid), "--", name}, args...)...)
}

// cgroupRoot is the kubelet's cgroupRoot: every pod's cgroup lies below
// it, named by the run's token, so a teardown or a later sweep finds and
// kills exactly this bed's containers.
func cgroupRootOf(token string) string { return "/nrigc-" + token }

// startBed brings the node up to Ready with the default ServiceAccount in
// place. On an error everything started so far is torn down.
func startBed() (b *bed, err error) {
	b = &bed{images: map[string]string{}}
	if err := b.makeRoot(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			fmt.Printf("e2e-cluster: bed failed; logs in %s/logs (kept)\n", b.root)
			keep := true
			b.teardownKeeping(keep)
			b = nil
		}
	}()
	steps := []struct {
		name string
		do   func() error
	}{
		{"tools and images", b.buildTools},
		{"certificates", func() error { return makePKI(b.path("pki")) }},
		{"configuration", b.writeConfig},
		{"cgroup root", b.makeCgroupRoot},
		{"namespace", b.startHolder},
		{"K3s's node files", b.layOutNode},
		{"nri-guard install k3s", b.install},
		{"etcd", b.startEtcd},
		{"kube-apiserver", b.startAPIServer},
		{"controllers", b.startControllers},
		{"containerd", b.startContainerd},
		{"images", b.importImages},
		{"kubelet and kube-proxy", b.startKubelet},
		{"node Ready", b.waitReady},
		{"kernel tunables", b.releaseTunables},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.do(); err != nil {
			return b, fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("e2e-cluster:   %-22s %5.1fs\n", s.name, time.Since(t0).Seconds())
	}
	return b, nil
}

// makeRoot creates the bed's root, named by a fresh token, with the owner
// record a later run's sweep reads.
func (b *bed) makeRoot() error {
	for {
		r := make([]byte, 3)
		rand.Read(r)
		b.token = hex.EncodeToString(r)
		b.root = filepath.Join(os.TempDir(), "nrigc-"+b.token)
		err := os.Mkdir(b.root, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return err
		}
	}
	for _, d := range overlaid {
		if strings.HasPrefix(b.root, d+"/") {
			return fmt.Errorf("the bed's root %s lies under %s, which the bed overlays: set TMPDIR elsewhere", b.root, d)
		}
	}
	for _, d := range []string{"logs", "pids", "bin", "images"} {
		if err := os.MkdirAll(b.path(d), 0o755); err != nil {
			return err
		}
	}
	b.binDir = b.path("bin")
	return os.WriteFile(b.path("owner"), []byte(testhost.OwnerRecord()), 0o644)
}

// overlaid are the host directories the node sees through overlays whose
// upper layers live in the bed's root: what the node writes there lands in
// the bed. /run is a tmpfs of the bed's own and K3s's and kubelet's data
// directories are plain directories of the bed's root (plainDirs), as
// they are file systems of their own on a real node.
var overlaid = []string{"/etc", "/var", "/opt"}

// plainDirs are bind mounts of directories of the bed's root over the
// overlays: containerd's overlayfs snapshots cannot have their upper
// layers on an overlay, and an idmapped mount (the volumes of a pod the
// guard gives a user namespace) cannot be made of an overlay.
var plainDirs = []string{"/var/lib/rancher/k3s", "/var/lib/kubelet"}

// kernelTunables are the host-wide sysctls the kubelet sets at start
// (its "kernel defaults"). In the bed's mount namespace each is a bind
// mount of a file of the bed's holding the value the kubelet wants, so
// the kubelet finds them set and the machine's own stay as they are.
var kernelTunables = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}

// releaseTunables removes the tunables' bind mounts once the kubelet has
// set them (it does so only at start). While a file is mounted over
// /proc, the kernel refuses a new proc mount to a user namespace (proc is
// not fully visible), and every pod the guard gives a user namespace
// would fail at its sandbox ("error mounting proc ... operation not
// permitted"), which a real node does not do.
func (b *bed) releaseTunables() error {
	for name := range kernelTunables {
		if out, err := run(b.inNode("umount", "/proc/sys/"+name)); err != nil {
			return fmt.Errorf("umount /proc/sys/%s: %v: %s", name, err, out)
		}
	}
	return nil
}

// holderScript runs in the fresh namespaces: overlays, the kernel
// tunables, the network, then it blocks.
const holderScript = `set -e
for d in $DIRS; do
  up="$ROOT/ov$d"
  mkdir -p "$up/upper" "$up/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$up/upper,workdir=$up/work" "$d"
done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
for d in $PLAIN; do
  mkdir -p "$ROOT/plain$d" "$d"
  mount --bind "$ROOT/plain$d" "$d"
done
for f in "$ROOT"/sysctl/*; do
  mount --bind "$f" "/proc/sys/$(basename "$f" | tr . /)"
done
ip link set lo up
# The node IP on a bridge of its own (this kernel has no dummy links);
# the Service range is routed over it so the apiserver reaches ClusterIPs.
ip link add nrig0 type bridge
ip addr add "$NODE_IP/32" dev nrig0
ip link set nrig0 up
ip route add "$SERVICES" dev nrig0 src "$NODE_IP"
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
echo ready
exec "$PAUSE"`

// startHolder starts the process that owns the bed's namespaces. Every
// daemon is started into them with nsenter; when the last process in
// them exits, the overlays, the bridge and every mount vanish.
func (b *bed) startHolder() error {
	if err := os.MkdirAll(b.path("sysctl"), 0o755); err != nil {
		return err
	}
	for name, v := range kernelTunables {
		if err := os.WriteFile(b.path("sysctl", strings.ReplaceAll(name, "/", ".")), []byte(v+"\n"), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", holderScript)
	cmd.Env = append(os.Environ(), "ROOT="+b.root, "DIRS="+strings.Join(overlaid, " "), "PLAIN="+strings.Join(plainDirs, " "), "PAUSE="+b.pauseBin,
		"NODE_IP="+nodeIP, "SERVICES="+serviceCIDR)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	logf, err := os.Create(b.path("logs", "holder.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stderr = logf
	if b.holder, err = testhost.Start("holder", cmd); err != nil {
		return err
	}
	if err := testhost.WaitLine(out, "ready", 15*time.Second); err != nil {
		return fmt.Errorf("namespace: %v: %s", err, readFile(b.path("logs", "holder.log")))
	}
	b.mntNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", b.holder.Pid()))
	os.WriteFile(b.path("pids", "holder"), []byte(fmt.Sprint(b.holder.Pid())), 0o644)
	return os.WriteFile(b.path("mntns"), []byte(b.mntNS), 0o644)
}

// makeCgroupRoot creates the kubelet's cgroupRoot in every hierarchy (the
// kubelet refuses a cgroupRoot that does not exist), with the cpuset of
// the machine's root so processes may join it.
func (b *bed) makeCgroupRoot() error {
	for _, m := range testhost.CgroupMounts() {
		dir := filepath.Join(m, cgroupRootOf(b.token))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(m, f)); err == nil {
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return fmt.Errorf("%s: %w", filepath.Join(dir, f), err)
				}
			}
		}
	}
	return nil
}

// daemon starts a bed daemon in the namespaces, logging to logs/NAME.log,
// with its pid in pids/NAME.
func (b *bed) daemon(name string, env []string, bin string, args ...string) (*testhost.Proc, error) {
	cmd := b.inNode(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.OpenFile(b.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := testhost.Start(name, cmd)
	if err != nil {
		return nil, err
	}
	b.daemons = append(b.daemons, p)
	os.WriteFile(b.path("pids", name), []byte(fmt.Sprint(p.Pid())), 0o644)
	return p, nil
}

// waitFor polls ok until it holds, failing early when the daemon exits.
func (b *bed) waitFor(what string, p *testhost.Proc, limit time.Duration, ok func() bool) error {
	var dead bool
	if pollUntil(limit, func() bool { dead = p != nil && p.Exited(); return dead || ok() }) && !dead {
		return nil
	}
	if dead {
		return fmt.Errorf("%s exited (%v) before %s; log tail:\n%s", p.Name, p.Err, what, tail(b.path("logs", p.Name+".log"), 25))
	}
	name := "the bed"
	if p != nil {
		name = p.Name
	}
	return fmt.Errorf("timed out after %s waiting for %s; %s log tail:\n%s", limit, what, name, tail(b.path("logs", name+".log"), 25))
}

func tail(p string, n int) string {
	lines := strings.Split(strings.TrimSpace(readFile(p)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// teardown stops everything and reports what had to be removed by force
// (a leak of the orderly path).
func (b *bed) teardown() []string {
	return b.teardownKeeping(os.Getenv("CLUSTER_KEEP") != "")
}

func (b *bed) teardownKeeping(keep bool) []string {
	if b.holder != nil && !b.holder.Exited() {
		b.stopWorkloads()
	}
	// The daemons in reverse order of start: kubelet and kube-proxy,
	// containerd, the control plane, etcd last.
	for i := len(b.daemons) - 1; i >= 0; i-- {
		p := b.daemons[i]
		if p.Stop(syscall.SIGTERM, 15*time.Second) {
			fmt.Printf("e2e-cluster: %s did not stop within 15s and was killed\n", p.Name)
		}
	}
	// Shims exit once their pods are gone; what else is left in the
	// namespace besides the holder is a leak.
	pollUntil(10*time.Second, func() bool { return len(b.leftInNamespace()) == 0 })
	var leaks []string
	if left := b.leftInNamespace(); len(left) > 0 {
		leaks = append(leaks, fmt.Sprintf("processes %v in the bed's namespace", left))
		testhost.KillAll(left)
	}
	b.holder.Stop(syscall.SIGTERM, 5*time.Second)
	leaks = append(leaks, removeLeftovers(b.root, b.token, b.mntNS)...)
	if keep {
		fmt.Printf("e2e-cluster: kept %s\n", b.root)
		return leaks
	}
	os.RemoveAll(b.root)
	return leaks
}

// stopWorkloads stops the kubelet first (else it would restart what is
// removed), then removes every pod through CRI while containerd serves.
func (b *bed) stopWorkloads() {
	for _, p := range b.daemons {
		if p.Name == "kubelet" {
			p.Stop(syscall.SIGTERM, 15*time.Second)
		}
	}
	if !slices.ContainsFunc(b.daemons, func(p *testhost.Proc) bool { return p.Name == "containerd" && !p.Exited() }) {
		return
	}
	for range 3 {
		if _, err := b.crictl("--timeout", "30s", "rmp", "-fa"); err != nil {
			fmt.Printf("e2e-cluster: teardown: %v\n", err)
			return
		}
		if out, err := b.crictl("pods", "-q"); err == nil && strings.TrimSpace(out) == "" {
			return
		}
	}
}

// crictl talks CRI to the node's containerd (the crictl suite's binary,
// from the e2e cache).
func (b *bed) crictl(args ...string) (string, error) {
	crictl := filepath.Join(cacheDir, "crictl-v1.37.0", "crictl")
	return run(b.inNode(crictl, append([]string{"--runtime-endpoint", "unix://" + containerdSocket}, args...)...))
}

// leftInNamespace lists the processes in the bed's mount namespace other
// than the holder.
func (b *bed) leftInNamespace() []int {
	if b.mntNS == "" {
		return nil
	}
	var left []int
	for _, pid := range testhost.PidsInMountNamespace(b.mntNS) {
		if b.holder == nil || pid != b.holder.Pid() {
			left = append(left, pid)
		}
	}
	return left
}
