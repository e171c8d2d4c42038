package kubepod

import (
	"os/exec"
	"strings"
	"testing"
)

// TestWrapperDoesNotLinkTheTranslator: the runtime wrapper starts at every
// container creation and never reads a manifest, so it must not carry
// this package (or any Kubernetes API package).
func TestWrapperDoesNotLinkTheTranslator(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-tags", "nri_no_wasm", "github.com/nri-guard/nri-guard/plugin/nri-guard-runc").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasSuffix(pkg, "/internal/kubepod") || strings.HasPrefix(pkg, "k8s.io/") {
			t.Errorf("nri-guard-runc links %s", pkg)
		}
	}
}
