package record

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	key := []byte(strings.Repeat("k", KeySize))
	other := []byte(strings.Repeat("x", KeySize))
	v := Sign(key, Record{ContainerID: "c1", Exception: "monitoring"})
	if r, err := Verify(key, "c1", v); err != nil || r.Exception != "monitoring" {
		t.Fatalf("round trip: %+v %v", r, err)
	}
	cases := map[string]struct {
		key   []byte
		id    string
		value string
		want  error
	}{
		"missing":                {key, "c1", "", ErrMissing},
		"replayed on another id": {key, "c2", v, ErrForged},
		"other node's key":       {other, "c1", v, ErrForged},
		"exception swapped":      {key, "c1", "v1." + enc.EncodeToString([]byte("everything")) + "." + strings.Split(v, ".")[2], ErrForged},
		"garbage":                {key, "c1", "v1.!!.??", ErrMalformed},
		"future version":         {key, "c1", "v2" + v[2:], ErrMalformed},
		"truncated":              {key, "c1", v[:len(v)-4], ErrMalformed},
		"line break inside":      {key, "c1", "v1.\n" + v[3:], ErrMalformed},
	}
	for name, tc := range cases {
		if _, err := Verify(tc.key, tc.id, tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "record.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil || len(k1) != KeySize {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || string(k1) != string(k2) {
		t.Fatal("a second start must reuse the key")
	}
	os.Chmod(path, 0o644)
	if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	key := []byte(strings.Repeat("k", KeySize))
	f.Add("c1", Sign(key, Record{ContainerID: "c1", Exception: "e"}))
	f.Add("", "v1..")
	f.Fuzz(func(t *testing.T, id, value string) {
		r, err := Verify(key, id, value)
		if err == nil && Sign(key, r) != value {
			t.Fatalf("verified a value that is not what Sign gives: %q", value)
		}
	})
}
