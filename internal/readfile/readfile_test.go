package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := Bounded(path, 5); err != nil || string(data) != "12345" {
		t.Errorf("at the bound: %q %v", data, err)
	}
	if _, err := Bounded(path, 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("beyond the bound: %v", err)
	}
	if _, err := Bounded(filepath.Join(t.TempDir(), "missing"), 4); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
