package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nri-guard/nri-guard/internal/profiles"
)

// runSeccompDigest prints, for each profile file, the digest
// seccomp.allowProfiles takes and what of the minimum set it lets
// through. The file is decoded as containerd decodes a Localhost profile,
// so the digest is the one the NRI plugin and the runtime wrapper see.
func runSeccompDigest(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: nri-guard seccomp digest FILE...")
		return exitUsage
	}
	code := exitOK
	for _, path := range args {
		raw, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "nri-guard seccomp digest:", err)
			code = exitFail
			continue
		}
		p, err := profiles.DecodeAsRuntime(raw)
		if err != nil {
			fmt.Fprintf(stderr, "nri-guard seccomp digest: %s: %v\n", path, err)
			code = exitFail
			continue
		}
		fmt.Fprintf(stdout, "%s  %s\n", profiles.Digest(p), path)
		if leaks := profiles.Judge(p, profiles.NativeArch()); len(leaks) > 0 {
			fmt.Fprintf(stdout, "  lets through %d escape-critical calls the built-in profile refuses (%s):\n", len(leaks), profiles.NativeArch())
			for _, l := range leaks {
				fmt.Fprintf(stdout, "    %-20s %s on %s\n", l.Name, l.By, l.Arch)
			}
		} else {
			fmt.Fprintln(stdout, "  refuses the minimum set: seccomp.localhost: confining allows it")
		}
		// containerd accepts what encoding/json accepts; the strict check
		// names what it would silently drop or mistake.
		if _, err := profiles.ParseSeccomp(path, raw); err != nil {
			fmt.Fprintf(stdout, "  warning: %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  warning: "))
		}
	}
	return code
}
