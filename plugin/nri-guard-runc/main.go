// Command nri-guard-runc is nri-guard's runtime wrapper: set it as the
// runc runtime's BinaryName in containerd. All logic is in
// internal/wrapper.
package main

import (
	"os"

	"github.com/nri-guard/nri-guard/internal/wrapper"
)

func main() {
	os.Exit(wrapper.Main(os.Args[1:], os.Stderr))
}
