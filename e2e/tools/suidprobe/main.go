// Command suidprobe is installed setuid root in the e2e image. It shows
// what a process started through it holds, and tries to use it:
//
//	suidprobe [FILE]   prints "uid=R euid=E capeff=HEX read=ok|ERROR",
//	                   after trying to read FILE (a root-only canary)
//
// With no_new_privs the kernel ignores the setuid bit, so euid stays the
// caller's; without it, euid is 0 and the process holds every capability
// of its bounding set.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var uids []string
	capEff := "?"
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uids = strings.Fields(rest)
		}
		if rest, ok := strings.CutPrefix(line, "CapEff:"); ok {
			capEff = strings.TrimSpace(rest)
		}
	}
	if len(uids) < 2 {
		fmt.Println("error: no Uid line")
		os.Exit(1)
	}
	read := "none"
	if len(os.Args) > 1 {
		if _, err := os.ReadFile(os.Args[1]); err != nil {
			read = "error"
		} else {
			read = "ok"
		}
	}
	fmt.Printf("uid=%s euid=%s capeff=%s read=%s\n", uids[0], uids[1], capEff, read)
}
