package idpool

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds arbitrary pool files: Open either refuses the file or
// yields a pool whose next allocation overlaps no range it holds and
// stays inside the configured ids.
func FuzzOpen(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{State: filepath.Join(t.TempDir(), "pool.json"), First: 1 << 20, Count: 8}
		if err := os.WriteFile(cfg.State, data, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := Open(cfg)
		if err != nil {
			return
		}
		defer p.Close()
		held := p.Entries()
		r, err := p.Allocate("fuzz-new-owner", "", "", t0)
		if err != nil {
			return
		}
		for _, e := range held {
			if e.Owner == "fuzz-new-owner" {
				// It keeps what it holds, even outside a changed pool.
				if e.Range != r {
					t.Fatalf("an owner's second allocation changed its range")
				}
				return
			}
		}
		if r.Start < cfg.First || uint64(r.Start)+RangeSize > uint64(cfg.First)+uint64(cfg.Count)*RangeSize {
			t.Fatalf("range %d outside the pool", r.Start)
		}
		starts := make([]uint32, 0, len(held))
		for _, e := range held {
			starts = append(starts, e.Start)
		}
		if overlapsAny(r.Start, starts) {
			t.Fatalf("range %d overlaps a held one: %v", r.Start, starts)
		}
	})
}

func BenchmarkAllocateRelease(b *testing.B) {
	cfg := Config{State: filepath.Join(b.TempDir(), "pool.json"), First: 1 << 20, Count: 4096}
	for i := 0; i < 100; i++ { // a node with 100 pods
		p, _ := Open(cfg)
		p.Allocate(string(rune('a'+i%26))+string(rune('0'+i/26)), "/run/runc", "ns/pod", t0)
		p.Close()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Allocate("bench", "/run/runc", "ns/pod", t0); err != nil {
			b.Fatal(err)
		}
		if err := p.Release("bench"); err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}
