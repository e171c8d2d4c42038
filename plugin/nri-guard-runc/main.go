// Command nri-guard-runc is nri-guard's runtime wrapper: set it as the
// runc runtime's BinaryName in containerd. All logic is in
// internal/runtime.
package main

import (
	"os"

	"github.com/nri-guard/nri-guard/internal/runtime"
)

func main() {
	os.Exit(runtime.Main(os.Args[1:], os.Stderr))
}
