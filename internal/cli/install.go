package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nri-guard/nri-guard/internal/install"
)

// runInstall handles `nri-guard install k3s` and `nri-guard uninstall k3s`.
func runInstall(verb string, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "k3s" {
		fmt.Fprintf(stderr, "usage: nri-guard %s k3s [flags] (K3s is the only target so far)\n", verb)
		return exitUsage
	}
	fs := flag.NewFlagSet("nri-guard "+verb+" k3s", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := install.Options{Out: stdout}
	fs.StringVar(&o.Root, "root", "/", "the node's root directory (an image tree, or a test's fake root)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print every file it would write or remove, with its content or a diff; change nothing")
	if verb == "install" {
		fs.StringVar(&o.Mode, "mode", install.ModeAudit, "audit (log what enforce would do) or enforce: the defaultMode of the installed policy")
		fs.StringVar(&o.K3sVersion, "k3s-version", "", "K3s version, e.g. v1.33.1+k3s1 (default: ask k3s --version)")
		fs.StringVar(&o.ContainerdVersion, "containerd-version", "", "K3s's containerd version, e.g. v2.2.9-k3s1 (default: ask k3s ctr version, else read K3s's containerd log)")
		fs.StringVar(&o.Runc, "runc", "", "the real runc for the runtime wrapper (default: K3s's bundled runc)")
		fs.StringVar(&o.Remap, "remap", install.RemapAuto, "run root containers in user namespaces (runAsRoot remap, userNamespaces enable): on, off, or auto (on when this kernel idmaps tmpfs and the pods' volume file systems)")
		fs.StringVar(&o.BinDir, "from", "", "directory with the nri-guard and nri-guard-runc binaries to install (default: this binary's directory)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nri-guard %s k3s: unexpected argument %q\n", verb, fs.Arg(0))
		return exitUsage
	}
	var err error
	if verb == "install" {
		err = installFrom(&o)
	} else {
		err = install.Uninstall(o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nri-guard %s k3s: %v\n", verb, err)
		return exitFail
	}
	return exitOK
}

// installFrom installs the binaries next to the running one unless told
// otherwise: the tarball and `make build` put both in one directory.
func installFrom(o *install.Options) error {
	if o.BinDir == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		o.BinDir = filepath.Dir(self)
	}
	return install.Install(*o)
}
