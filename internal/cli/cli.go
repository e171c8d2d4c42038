// Package cli is nri-guard's command line: run (the NRI plugin), check
// (offline), policy show, status, report, install/uninstall,
// version. main only calls Main.
package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/nri-guard/nri-guard/internal/nriplugin"
	"github.com/nri-guard/nri-guard/internal/userns"
)

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

// Exit codes shared by all subcommands.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `nri-guard: a containerd NRI plugin that guards container creation with a node-local policy.

usage:
  nri-guard run [flags]              run as an external NRI plugin (see run -h)
  nri-guard check [flags] SPEC|-     judge an OCI spec offline with the node's policy
  nri-guard policy show [flags]      print the effective policy and where each setting came from
  nri-guard seccomp digest FILE...   a profile's digest (for seccomp.allowProfiles) and the escape calls it lets through
  nri-guard status [--json]          the running plugin: connection, policy in force, counts, last refusals; exit 0/1/2
  nri-guard report [--json]          what enforce would do with each running container if it were created now
  nri-guard install k3s [flags]      put nri-guard on this K3s node (see install k3s -h)
  nri-guard uninstall k3s [flags]    take it off again, restoring every file it replaced
  nri-guard version

Started by containerd from its plugin directory (no arguments), nri-guard runs
as a pre-registered plugin configured by its conf file (see README).
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if os.Getenv(userns.HolderEnv) == "1" {
		return userns.Hold() // the installer's probe of user namespaces
	}
	if len(args) == 0 {
		if nriplugin.PreRegistered() {
			return runPreRegistered(stderr)
		}
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runExternal(args[1:], stderr)
	case "check":
		return runCheck(args[1:], os.Stdin, stdout, stderr)
	case "policy":
		if len(args) > 1 && args[1] == "show" {
			return runPolicyShow(args[2:], stdout, stderr)
		}
		fmt.Fprintln(stderr, "usage: nri-guard policy show [flags]")
		return exitUsage
	case "status":
		return runStatus(args[1:], stdout, stderr)
	case "report":
		return runReport(args[1:], stdout, stderr)
	case "seccomp":
		if len(args) > 1 && args[1] == "digest" {
			return runSeccompDigest(args[2:], stdout, stderr)
		}
		fmt.Fprintln(stderr, "usage: nri-guard seccomp digest FILE...")
		return exitUsage
	case "install", "uninstall":
		return runInstall(args[0], args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "nri-guard", Version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "nri-guard: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
