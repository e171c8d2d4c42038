package controls

import (
	"os"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/policy"
)

// TestREADMEControlTableIsGenerated: the README's control table is what
// the controls say of themselves (Meta). After editing a Meta, run this
// test with NRI_GUARD_WRITE_README=1 to write the table.
func TestREADMEControlTableIsGenerated(t *testing.T) {
	pol, err := policy.Parse(policy.Input{Name: "empty.yaml", Data: []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := TableBegin + "\n" + Table(pol.Controls.ModesByKey(), "off by default") + TableEnd
	const path = "../../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin, end := strings.Index(readme, TableBegin), strings.Index(readme, TableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q ... %q", TableBegin, TableEnd)
	}
	got := readme[begin : end+len(TableEnd)]
	if got == want {
		return
	}
	if os.Getenv("NRI_GUARD_WRITE_README") != "" {
		if err := os.WriteFile(path, []byte(readme[:begin]+want+readme[end+len(TableEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's control table differs from the controls' Meta; run NRI_GUARD_WRITE_README=1 go test ./internal/controls/ -run READMEControlTable")
}
