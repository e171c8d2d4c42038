//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// swapVictims is how many victim containers each version creates while
// the racer swaps their volume.
const swapVictims = 200

// TestSwappedMountSource is issue #11's class 2 attack: a workload that
// can write a directory (here: a volume under a local-path-like storage
// path the policy allows) swaps a subdirectory for a symlink to / and
// back in a tight loop, while another pod's container that mounts the
// subdirectory is created again and again. Without pinning, the guard
// judges the path while it is the directory and runc mounts it while it
// is the symlink: the victim gets the node's root and reads the canary
// planted there. With pinning, each victim gets the very directory that
// was judged, or is refused (it was the symlink, so / was judged).
func TestSwappedMountSource(t *testing.T) {
	eachVersionInTurn(t, func(t *testing.T, e *env, tag string) {
		// The canary is in the node's /run as the environment's mount
		// namespace (where runc follows the symlink) has it.
		canary := "/run/nrig-canary-" + e.token
		if out, err := e.inNamespace("sh", "-c", "echo "+e.token+" > "+canary).CombinedOutput(); err != nil {
			t.Fatalf("plant the canary: %v %s", err, out)
		}
		vol := e.path("storage", "pvc-swap_e2e_data")
		sub, alt := filepath.Join(vol, "sub"), filepath.Join(vol, "alt")
		results := e.path("swap-results")
		must(t, os.MkdirAll(sub, 0o777))
		must(t, os.WriteFile(filepath.Join(sub, "mine"), nil, 0o644))
		must(t, os.Symlink("/", alt))
		must(t, os.MkdirAll(results, 0o777))

		var stop atomic.Bool
		var swaps atomic.Int64
		racer := sync.WaitGroup{}
		racer.Add(1)
		go func() {
			defer racer.Done()
			for !stop.Load() {
				if unix.Renameat2(unix.AT_FDCWD, sub, unix.AT_FDCWD, alt, unix.RENAME_EXCHANGE) == nil {
					swaps.Add(1)
				}
			}
		}()

		p := e.newPod("e2e", "swap-"+tag, false)
		defer p.remove()
		// refused: by the guard (NRI or the wrapper); failed: containerd
		// itself tripped over the swap (it resolves host paths too).
		var created, refused, failed atomic.Int64
		var otherErr atomic.Value
		var reasons sync.Map // the guard's refusals, by their first words
		jobs := make(chan int)
		var workers sync.WaitGroup
		for w := 0; w < 3; w++ {
			workers.Add(1)
			go func() {
				defer workers.Done()
				for i := range jobs {
					id, err := createVictim(p, i, results, canary)
					if err == nil {
						_, err = e.crictl("start", id)
					}
					switch {
					case err == nil:
						created.Add(1)
					case strings.Contains(err.Error(), "nri-guard"):
						refused.Add(1)
						reasons.Store(refusalShape(err.Error()), true)
					default:
						otherErr.Store(err)
						failed.Add(1)
					}
				}
			}()
		}
		for i := 0; i < swapVictims; i++ {
			jobs <- i
		}
		close(jobs)
		workers.Wait()
		stop.Store(true)
		racer.Wait()
		if err, _ := otherErr.Load().(error); err != nil {
			t.Logf("the last victim that failed for another reason than the guard: %v", err)
		}

		reasons.Range(func(k, _ any) bool { t.Logf("refused: %s", k); return true })
		n := created.Load()
		e.poll("every started victim's result", 90*time.Second, func() bool {
			entries, _ := os.ReadDir(results)
			return int64(len(entries)) >= n
		})
		tally := map[string]int{}
		entries, _ := os.ReadDir(results)
		for _, ent := range entries {
			tally[strings.TrimSpace(readFile(filepath.Join(results, ent.Name())))]++
		}
		t.Logf("containerd %s: %d victims, %d swaps: %d started (%d read the node's canary, %d saw their volume, %d saw something else), %d refused by the guard, %d failed in containerd",
			e.version, swapVictims, swaps.Load(), n, tally["escaped"], tally["volume"], tally["other"], refused.Load(), failed.Load())
		if tally["escaped"] != 0 {
			t.Errorf("%d victims read the node's canary through a swapped mount source", tally["escaped"])
		}
		if tally["volume"] == 0 || swaps.Load() == 0 {
			t.Errorf("the race did not run: %d victims saw their volume, %d swaps", tally["volume"], swaps.Load())
		}

		// The pins go with the containers. containerd 2.1 sometimes fails
		// a pod's first removal after this many containers ("failed to
		// kill container ...: ttrpc: closed") and leaves the sandbox, and
		// with it runc's state and the sandbox's pins; the pod is removed
		// until containerd has let go of it.
		p.removeFully()
		var left string
		e.poll("the pins of the removed pod to go", 30*time.Second, func() bool {
			out, err := e.inNamespace("sh", "-c", "cd /run/nri-guard/pins 2>/dev/null && for d in *; do [ -e \"$d\" ] && echo \"$d: $(ls -A \"$d\" | tr '\\n' ' ') state=$(readlink \"$d/state\"; [ -e \"$d/state\" ] && echo exists || echo gone)\"; done; true").CombinedOutput()
			left = strings.TrimSpace(string(out))
			if err != nil {
				left = err.Error()
			}
			return err == nil && left == ""
		}, func() string { return "pins left:\n" + left })
	})
}

// refusalShape is the refusal from the guard's name on, without the
// container's name and up to the value judged.
func refusalShape(msg string) string {
	msg = msg[strings.Index(msg, "nri-guard"):]
	if i := strings.Index(msg, "/data].source = "); i >= 0 {
		end := i + len("/data].source = ")
		if j := strings.IndexAny(msg[end:], ":;"); j >= 0 {
			end += j
		}
		return strings.Fields(msg[:strings.Index(msg, ": ")+1])[0] + " ... " + msg[i:end]
	}
	if len(msg) > 160 {
		msg = msg[:160]
	}
	return msg
}

// createVictim creates victim i: it mounts the raced directory at /data
// and writes what it found there into results/v<i>.
func createVictim(p *pod, i int, results, canary string) (string, error) {
	name := fmt.Sprintf("v%d", i)
	script := fmt.Sprintf("if cat /data%s >/dev/null 2>&1; then r=escaped; elif [ -e /data/mine ]; then r=volume; else r=other; fi; echo $r > /results/%s", canary, name)
	cfg := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": "localhost/e2e/busybox:1"},
		"command":  []any{"sh", "-c", script},
		"log_path": name + ".log",
		"mounts": []any{
			map[string]any{"host_path": filepath.Join(filepath.Dir(results), "storage", "pvc-swap_e2e_data", "sub"), "container_path": "/data"},
			map[string]any{"host_path": results, "container_path": "/results"},
		},
		"linux": map[string]any{"security_context": map[string]any{
			"namespace_options": map[string]any{"pid": 1},
			"masked_paths":      kubeletMaskedPaths,
			"readonly_paths":    kubeletReadonlyPaths,
		}},
	}
	file := filepath.Join(p.dir, name+".json")
	writeJSON(p.e.t, file, cfg)
	return p.e.crictl("create", p.id, file, filepath.Join(p.dir, "pod.json"))
}
