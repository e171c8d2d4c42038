package policy

import "testing"

// TestTmpfsSizeBytes: sizes in bytes as check reads them; a percentage
// and a value check refuses have none.
func TestTmpfsSizeBytes(t *testing.T) {
	for _, c := range []struct {
		in   TmpfsSize
		want int64
		ok   bool
	}{
		{"64m", 64 << 20, true}, {"1g", 1 << 30, true}, {"512k", 512 << 10, true}, {"4096", 4096, true},
		{"10%", 0, false}, {"", 0, false}, {"0m", 0, false}, {"64M", 0, false}, {"1t", 0, false},
	} {
		if got, ok := c.in.Bytes(); got != c.want || ok != c.ok {
			t.Errorf("%q: %d %v, want %d %v", c.in, got, ok, c.want, c.ok)
		}
		if (c.in.check(string(c.in)) == nil) != (c.ok || c.in == "10%") {
			t.Errorf("%q: check and Bytes disagree", c.in)
		}
	}
}
