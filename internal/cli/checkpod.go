package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/nri-guard/nri-guard/internal/check"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/kubepod"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/policy"
)

// presetFlags collects repeated --preset NAME flags.
type presetFlags []policy.PresetName

func (p *presetFlags) String() string { return fmt.Sprint(*p) }

func (p *presetFlags) Set(s string) error {
	*p = append(*p, policy.PresetName(s))
	return nil
}

// uidFlag is an optional uid.
type uidFlag struct{ uid *uint32 }

func (u *uidFlag) String() string {
	if u.uid == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*u.uid), 10)
}

func (u *uidFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return fmt.Errorf("want a uid (0-4294967295), got %q", s)
	}
	v := uint32(n)
	u.uid = &v
	return nil
}

// nodeFlags say what the offline check cannot see of the node: presets
// under its policy, its LSMs, kubelet's defaults and the image's user.
type nodeFlags struct {
	presets        presetFlags
	imageUID       uidFlag
	seccompDefault bool
	apparmor       bool
	selinux        bool
}

func (n *nodeFlags) register(fs *flag.FlagSet) {
	fs.Var(&n.presets, "preset", "lay a preset under the policy ("+strings.Join(policy.PresetNames(), ", ")+"); repeatable. With --preset and no --policy, a missing default policy file is skipped")
	fs.Var(&n.imageUID, "image-uid", "the image's user, for a pod without runAsUser (default: root assumed)")
	fs.BoolVar(&n.seccompDefault, "seccomp-default", false, "kubelet runs with --seccomp-default (an unset seccomp profile is RuntimeDefault)")
	fs.BoolVar(&n.apparmor, "apparmor", false, "the node enforces AppArmor")
	fs.BoolVar(&n.selinux, "selinux", false, "the node enforces SELinux")
}

// load reads the policy with the presets. A preset alone is a policy, so
// with --preset the default policy file may be absent.
func (n *nodeFlags) load(pf *policyFlags) (*policy.Policy, controls.Profiles, error) {
	file, dir := pf.file, pf.dir
	if dir == DefaultPolicyDir {
		dir = loader.ExistingDir(dir)
	}
	if len(n.presets) > 0 && file == DefaultPolicy {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			file = ""
		}
	}
	return loader.LoadWith(n.presets, file, dir)
}

// caller is the offline check on the node these flags describe.
func (n *nodeFlags) caller() controls.Caller {
	c := controls.OfflineCheck()
	c.AppArmor, c.SELinux = n.apparmor, n.selinux
	return c
}

func (n *nodeFlags) options() kubepod.Options {
	return kubepod.Options{ImageUID: n.imageUID.uid, SeccompDefault: n.seccompDefault}
}

// nodeAssumptions are the node facts every container of a manifest shares.
func (n *nodeFlags) nodeAssumptions() []string {
	onOff := func(b bool) string {
		if b {
			return "enforced"
		}
		return "not enforced"
	}
	return []string{
		fmt.Sprintf("node: AppArmor %s, SELinux %s (--apparmor, --selinux)", onOff(n.apparmor), onOff(n.selinux)),
		"runtime: containerd's CRI defaults (capabilities, masked paths, mounts); the pod's namespaces, sandbox and volume paths are stand-ins",
		"not judged here: what only the node has (devices of a privileged container, other NRI plugins' changes)",
	}
}

// checkManifest judges every container of every pod in a manifest.
func checkManifest(name string, data []byte, eng *engine.Engine, nf *nodeFlags, stdout, stderr io.Writer) int {
	results, err := check.JudgeManifest(name, data, eng, nf.options())
	if err != nil {
		fmt.Fprintln(stderr, "nri-guard check:", err)
		return check.ExitBadInput
	}
	return check.ReportManifest(stdout, name, results, nf.nodeAssumptions())
}
