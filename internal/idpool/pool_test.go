package idpool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func testConfig(t *testing.T, count uint32) Config {
	return Config{State: filepath.Join(t.TempDir(), "userns", "pool.json"), First: 1 << 20, Count: count}
}

func allocate(t *testing.T, cfg Config, owner string) Range {
	t.Helper()
	p, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := p.Allocate(owner, "", "", t0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAllocateGivesDisjointRangesFromTheFloor(t *testing.T) {
	cfg := testConfig(t, 3)
	a, b := allocate(t, cfg, "pod-a"), allocate(t, cfg, "pod-b")
	if a.Start != cfg.First || b.Start != cfg.First+RangeSize {
		t.Fatalf("got %d and %d, want %d and %d", a.Start, b.Start, cfg.First, cfg.First+RangeSize)
	}
	if again := allocate(t, cfg, "pod-a"); again != a {
		t.Fatalf("a second create of pod-a got %d, want its range %d", again.Start, a.Start)
	}
}

func TestReleasedRangeIsReused(t *testing.T) {
	cfg := testConfig(t, 2)
	a := allocate(t, cfg, "pod-a")
	allocate(t, cfg, "pod-b")
	p, _ := Open(cfg)
	if err := p.Release("pod-a"); err != nil {
		t.Fatal(err)
	}
	if err := p.Release("pod-a"); err != nil {
		t.Fatalf("a second release: %v", err)
	}
	p.Close()
	if c := allocate(t, cfg, "pod-c"); c != a {
		t.Fatalf("pod-c got %d, want pod-a's freed range %d", c.Start, a.Start)
	}
}

func TestExhaustionRefusesNeverShares(t *testing.T) {
	cfg := testConfig(t, 2)
	allocate(t, cfg, "pod-a")
	allocate(t, cfg, "pod-b")
	p, _ := Open(cfg)
	defer p.Close()
	_, err := p.Allocate("pod-c", "", "", t0)
	if !errors.Is(err, ErrExhausted) || !strings.Contains(err.Error(), "userNamespacePool.count") {
		t.Fatalf("got %v, want an exhaustion error naming the setting", err)
	}
	if len(p.Entries()) != 2 {
		t.Fatalf("the failed allocation left %d entries", len(p.Entries()))
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	cfg := testConfig(t, 4)
	a := allocate(t, cfg, "pod-a")
	p, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, ok := p.Lookup("pod-a"); !ok || got != a {
		t.Fatalf("after reopening, pod-a has %v %v, want %v", got, ok, a)
	}
}

// A crash after the new state is written but before it is renamed into
// place leaves the old state: the allocation in flight is lost (its
// create never ran), every earlier one is kept, and the pool works on.
func TestCrashBetweenWriteAndRenameKeepsTheOldState(t *testing.T) {
	cfg := testConfig(t, 4)
	a := allocate(t, cfg, "pod-a")
	crashBeforeRename = func() error { return errors.New("crash") }
	p, _ := Open(cfg)
	if _, err := p.Allocate("pod-b", "", "", t0); err == nil {
		t.Fatal("the crashed save reported success")
	}
	p.Close()
	crashBeforeRename = func() error { return nil }
	if _, err := os.Stat(cfg.State + ".tmp"); err != nil {
		t.Fatalf("the crash should leave the written temporary file: %v", err)
	}

	p, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Lookup("pod-b"); ok {
		t.Fatal("pod-b's unsaved range is in the pool")
	}
	if got, _ := p.Lookup("pod-a"); got != a {
		t.Fatalf("pod-a's range changed to %v", got)
	}
	p.Close()
	if b := allocate(t, cfg, "pod-b"); b.Start != a.Start+RangeSize {
		t.Fatalf("pod-b got %d after the crash", b.Start)
	}
}

func TestCorruptStateIsAnErrorNotAnEmptyPool(t *testing.T) {
	cfg := testConfig(t, 4)
	allocate(t, cfg, "pod-a")
	if err := os.WriteFile(cfg.State, []byte("{\"entries\": [tru"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), cfg.State) {
		t.Fatalf("got %v, want an error naming %s", err, cfg.State)
	}
}

// Moving the floor must not hand out ids that a running pod still holds.
func TestChangedFloorAvoidsHeldIDs(t *testing.T) {
	cfg := testConfig(t, 4)
	a := allocate(t, cfg, "pod-a")
	cfg.First = a.Start - RangeSize/2
	b := allocate(t, cfg, "pod-b")
	if uint64(b.Start) < uint64(a.Start)+RangeSize && uint64(a.Start) < uint64(b.Start)+RangeSize {
		t.Fatalf("pod-b's range %d overlaps pod-a's %d", b.Start, a.Start)
	}
}

func TestSweepReleasesOnlyOldEntriesOfGoneOwners(t *testing.T) {
	cfg := testConfig(t, 4)
	p, _ := Open(cfg)
	defer p.Close()
	p.Allocate("gone-old", "", "", t0)
	p.Allocate("alive-old", "", "", t0)
	p.Allocate("gone-young", "", "", t0.Add(time.Hour))
	swept, err := p.Sweep(time.Minute, t0.Add(time.Hour+time.Second), func(e Entry) bool { return strings.HasPrefix(e.Owner, "gone") })
	if err != nil {
		t.Fatal(err)
	}
	if len(swept) != 1 || swept[0].Owner != "gone-old" {
		t.Fatalf("swept %v, want only gone-old", swept)
	}
	if _, ok := p.Lookup("gone-young"); !ok {
		t.Fatal("a young entry was swept: its pod may not exist yet")
	}
}

// Wrapper processes run concurrently; the lock keeps their ranges apart.
func TestConcurrentAllocationsAreDisjoint(t *testing.T) {
	cfg := testConfig(t, 64)
	var wg sync.WaitGroup
	starts := make([]uint32, 32)
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := Open(cfg)
			if err != nil {
				t.Error(err)
				return
			}
			defer p.Close()
			r, err := p.Allocate(fmt.Sprintf("pod-%d", i), "", "", t0)
			if err != nil {
				t.Error(err)
			}
			starts[i] = r.Start
		}()
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, s := range starts {
		if seen[s] {
			t.Fatalf("range %d given twice", s)
		}
		seen[s] = true
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{State: "pool.json", First: 1 << 20, Count: 1}, "absolute"},
		{Config{State: "/p", First: 1 << 20, Count: 0}, "at least 1"},
		{Config{State: "/p", First: 0xFFFF0000, Count: 2}, "highest id"},
		{Config{State: "/p", First: 0, Count: 2}, "first must be at least 65536"},
		{Config{State: "/p", First: 65535, Count: 2}, "first must be at least 65536"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default: %v", err)
	}
}
