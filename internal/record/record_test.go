package record

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var web = Identity{Type: TypeContainer, SandboxID: "s1", Namespace: "default", Pod: "web", Container: "app", Image: "docker.io/library/nginx:1", PodUID: "web-uid"}

func TestSignVerify(t *testing.T) {
	key := []byte(strings.Repeat("k", KeySize))
	other := []byte(strings.Repeat("x", KeySize))
	v := Sign(key, Record{ContainerID: "c1", Exception: "monitoring", Identity: web})
	if r, err := Verify(key, "c1", v); err != nil || r.Exception != "monitoring" || r.Identity != web || r.Version != 3 {
		t.Fatalf("round trip: %+v %v", r, err)
	}
	parts := strings.Split(v, ".")
	swap := func(i int, value string) string {
		p := append([]string(nil), parts...)
		p[i] = enc.EncodeToString([]byte(value))
		return strings.Join(p, ".")
	}
	cases := map[string]struct {
		key   []byte
		id    string
		value string
		want  error
	}{
		"missing":                  {key, "c1", "", ErrMissing},
		"replayed on another id":   {key, "c2", v, ErrForged},
		"other node's key":         {other, "c1", v, ErrForged},
		"exception swapped":        {key, "c1", swap(1, "everything"), ErrForged},
		"made a sandbox":           {key, "c1", swap(2, "sandbox"), ErrForged},
		"other pod sandbox":        {key, "c1", swap(3, "s2"), ErrForged},
		"namespace swapped":        {key, "c1", swap(4, "kube-system"), ErrForged},
		"pod swapped":              {key, "c1", swap(5, "coredns-1"), ErrForged},
		"container swapped":        {key, "c1", swap(6, "coredns"), ErrForged},
		"pod uid swapped":          {key, "c1", swap(8, "victim-uid"), ErrForged},
		"v3 passed off as v2":      {key, "c1", "v2." + strings.Join(append(parts[1:8:8], parts[9]), "."), ErrForged},
		"image swapped":            {key, "c1", swap(7, "rancher/mirrored-coredns-coredns:1"), ErrForged},
		"fields shifted":           {key, "c1", strings.Join(append(parts[:4:4], append([]string{parts[5], parts[4]}, parts[6:]...)...), "."), ErrForged},
		"garbage":                  {key, "c1", "v2.!!.??", ErrMalformed},
		"future version":           {key, "c1", "v4" + v[2:], ErrMalformed},
		"v1 prefix on a v3 record": {key, "c1", "v1" + v[2:], ErrMalformed},
		"truncated":                {key, "c1", v[:len(v)-4], ErrMalformed},
		"a part dropped":           {key, "c1", strings.Join(parts[:8], "."), ErrMalformed},
		"line break inside":        {key, "c1", "v3.\n" + v[3:], ErrMalformed},
	}
	for name, tc := range cases {
		if _, err := Verify(tc.key, tc.id, tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// TestV1StillVerifies: containers created by a plugin from before the
// identity was signed keep their exception, and carry no identity.
func TestV1StillVerifies(t *testing.T) {
	key := []byte(strings.Repeat("k", KeySize))
	old := signV1(key, Record{ContainerID: "c1", Exception: "monitoring"})
	r, err := Verify(key, "c1", old)
	if err != nil || r.Exception != "monitoring" || r.Version != 1 || r.Identity != (Identity{}) {
		t.Fatalf("v1 record: %+v %v", r, err)
	}
	if _, err := Verify(key, "c2", old); !errors.Is(err, ErrForged) {
		t.Fatalf("v1 record replayed: %v", err)
	}
	// A v1 record's MAC is not a v2 one: the versions cannot be mixed.
	v1parts := strings.Split(old, ".")
	mixed := "v2." + v1parts[1] + strings.Repeat(".", 7) + v1parts[2]
	if _, err := Verify(key, "c1", mixed); !errors.Is(err, ErrForged) {
		t.Fatalf("v1 MAC under a v2 header: %v", err)
	}
}

// TestV2StillVerifies: a record from before the pod UID was signed keeps
// its identity and carries no pod UID, so the wrapper vouches for none.
func TestV2StillVerifies(t *testing.T) {
	key := []byte(strings.Repeat("k", KeySize))
	r, err := Verify(key, "c1", signV2(key, Record{ContainerID: "c1", Exception: "e", Identity: web}))
	want := web
	want.PodUID = ""
	if err != nil || r.Version != 2 || r.Identity != want {
		t.Fatalf("v2 record: %+v %v", r, err)
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
	f.Add("c1", Sign(key, Record{ContainerID: "c1", Exception: "e", Identity: web}))
	f.Add("c1", signV1(key, Record{ContainerID: "c1", Exception: "e"}))
	f.Add("c1", signV2(key, Record{ContainerID: "c1", Exception: "e", Identity: web}))
	f.Add("", "v1..")
	f.Add("", "v2........")
	f.Fuzz(func(t *testing.T, id, value string) {
		r, err := Verify(key, id, value)
		if err != nil {
			return
		}
		again := map[int]func([]byte, Record) string{1: signV1, 2: signV2, 3: Sign}[r.Version](key, r)
		if again != value {
			t.Fatalf("verified a value that is not what Sign gives: %q", value)
		}
	})
}
