//go:build e2e_cluster

package cluster

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

// pollUntil calls ok every 250 ms until it holds or limit passes.
func pollUntil(limit time.Duration, ok func() bool) bool {
	return testhost.PollUntil(limit, 250*time.Millisecond, ok)
}

// run runs a command and returns its stdout; the error carries stderr.
func run(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
