package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A policy file beyond the bound, or nested deeper than YAML's parser
// takes, is a clear error naming the file, never a hang or a panic.
func TestOversizedAndDeepPolicies(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, append([]byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n#"), bytes.Repeat([]byte("x"), MaxFileBytes)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, ""); err == nil || !strings.Contains(err.Error(), big+": larger than") {
		t.Errorf("an oversized policy: %v", err)
	}
	deep := filepath.Join(dir, "deep.yaml")
	if err := os.WriteFile(deep, []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\nexceptions: "+strings.Repeat("[", 200000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(deep, ""); err == nil || !strings.Contains(err.Error(), deep) {
		t.Errorf("a deeply nested policy: %v", err)
	}
}
