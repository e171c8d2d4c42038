// Command cmd regenerates profiles/seccomp/default.json from its source
// table. Run it with `go generate ./internal/profiles/`.
package main

import (
	"fmt"
	"os"

	"github.com/nri-guard/nri-guard/internal/profiles"
	"github.com/nri-guard/nri-guard/internal/profiles/seccompgen"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cmd SOURCE.yaml OUT.json")
		os.Exit(2)
	}
	table, err := os.ReadFile(os.Args[1])
	if err == nil {
		var data []byte
		p, genErr := seccompgen.Generate(table, profiles.KnownSyscalls())
		if err = genErr; err == nil {
			if data, err = seccompgen.Marshal(p); err == nil {
				err = os.WriteFile(os.Args[2], data, 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
