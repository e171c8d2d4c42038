// Command nri-guard is the NRI plugin, the offline checker and the policy
// tool. All logic lives in internal/.
package main

import (
	"os"

	"github.com/nri-guard/nri-guard/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
