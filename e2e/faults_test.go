//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The fault matrix: creations go on from several clients while one fault
// hits the guard, and every container that started is checked in its
// bundle's config.json, the spec runc ran (crictl inspect shows the one
// before the wrapper), for what the policy demands of it. The count of
// containers that ran unguarded must be 0 for every fault; the time from
// the recovery to the first guarded start is reported.

// fault is one way the guard's world breaks, and how it recovers.
type fault struct {
	name           string
	inject, repair func(t *testing.T, e *env, f *faultFiles)
}

// faultFiles are the copies of the e2e policy the run may damage.
type faultFiles struct{ policy, dir, good string }

var faults = []fault{
	{"plugin SIGKILLed", func(t *testing.T, e *env, _ *faultFiles) { e.stopGuard(syscall.SIGKILL) },
		func(t *testing.T, e *env, _ *faultFiles) { e.startGuard() }},
	{"plugin SIGSTOPped past plugin_request_timeout (2s)", func(t *testing.T, e *env, _ *faultFiles) {
		must(t, syscall.Kill(e.guard.Pid(), syscall.SIGSTOP))
		time.Sleep(3 * time.Second)
	}, func(t *testing.T, e *env, _ *faultFiles) { must(t, syscall.Kill(e.guard.Pid(), syscall.SIGCONT)) }},
	{"containerd restarted", func(t *testing.T, e *env, _ *faultFiles) { e.stopContainerd() },
		func(t *testing.T, e *env, _ *faultFiles) { e.startContainerd() }},
	{"policy file replaced with garbage", func(t *testing.T, e *env, f *faultFiles) {
		must(t, os.WriteFile(f.policy, []byte("controls: [this is: not, a policy\n"), 0o644))
	}, restorePolicy},
	{"policy file truncated to nothing", func(t *testing.T, e *env, f *faultFiles) {
		must(t, os.WriteFile(f.policy, nil, 0o644))
	}, restorePolicy},
	{"policy file deleted", func(t *testing.T, e *env, f *faultFiles) { must(t, os.Remove(f.policy)) }, restorePolicy},
	{"drop-in half-written", func(t *testing.T, e *env, f *faultFiles) {
		must(t, os.WriteFile(filepath.Join(f.dir, "60-half.yaml"), []byte("apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\ncontrols:\n  seccomp: {unconf"), 0o644))
	}, func(t *testing.T, e *env, f *faultFiles) { must(t, os.Remove(filepath.Join(f.dir, "60-half.yaml"))) }},
}

func restorePolicy(t *testing.T, e *env, f *faultFiles) {
	must(t, os.WriteFile(f.policy, []byte(f.good), 0o644))
}

// TestFaults runs the matrix on the newest containerd and on 2.1 (no NRI
// validator: the wrapper alone is the fail-closed point there).
func TestFaults(t *testing.T) {
	of := []string{versions[0]}
	if v := versions[len(versions)-1]; v != versions[0] {
		of = append(of, v)
	}
	eachVersionOfFaults(t, of)
}

func eachVersionOfFaults(t *testing.T, of []string) {
	sideBySide(t, of, func(t *testing.T, v string) {
		dir := t.TempDir()
		files := &faultFiles{policy: filepath.Join(dir, "policy.yaml"), dir: filepath.Join(dir, "policy.d")}
		good, err := os.ReadFile(defaultPolicy.File)
		must(t, err)
		files.good = string(good)
		must(t, os.WriteFile(files.policy, good, 0o644))
		must(t, os.MkdirAll(files.dir, 0o755))
		e := newEnvWith(t, v, "external", policyRef{File: files.policy, Dir: files.dir})
		for i, f := range faults {
			r := churn(t, e, f, files, fmt.Sprintf("f%d-%s", i, strings.ReplaceAll(v, ".", "")))
			t.Logf("containerd %s, %s: %d creations, %d started, %d refused or failed, %d unguarded; first guarded start %s after the repair; errors: %q",
				v, f.name, r.tried, r.started, r.tried-r.started, len(r.unguarded), r.recovery.Round(time.Millisecond), r.errors)
			if len(r.unguarded) > 0 {
				t.Errorf("%s: %d containers ran unguarded: %v", f.name, len(r.unguarded), r.unguarded)
			}
			if r.recovery < 0 {
				t.Errorf("%s: no guarded start after the repair", f.name)
			}
		}
	})
}

// churnResult is what one fault's run saw.
type churnResult struct {
	tried, started int
	unguarded      []string
	recovery       time.Duration // -1: none
	errors         []string      // the first few distinct ones
}

// churn runs 3 clients, each creating and starting containers in a pod
// of its own until each had 3 starts after the repair (or 90 s passed
// since it); the fault hits after the clients began. A failed creation
// is retried after a pause, so the clients keep coming through the
// whole fault.
func churn(t *testing.T, e *env, f fault, files *faultFiles, prefix string) churnResult {
	var (
		mu       sync.Mutex
		res      = churnResult{recovery: -1}
		repaired atomic.Int64 // UnixNano of the repair, 0 before
		wg       sync.WaitGroup
	)
	for c := 0; c < 3; c++ {
		p := e.newPod("faults", fmt.Sprintf("%s-c%d", prefix, c), false)
		defer p.remove()
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := 0
			for i := 0; after < 3; i++ {
				if at := repaired.Load(); at != 0 && time.Since(time.Unix(0, at)) > 90*time.Second {
					return
				}
				if p.runErr != nil { // the sandbox went with containerd: a new one
					p = e.newPod("faults", fmt.Sprintf("%s-c%d-%d", prefix, c, i), false)
					defer p.remove()
				}
				id, err := p.create(containerName(i))
				if err == nil {
					_, err = e.crictl("start", id)
				}
				mu.Lock()
				res.tried++
				switch {
				case err != nil:
					if msg := errorGist(err.Error()); len(res.errors) < 4 && !slices.Contains(res.errors, msg) {
						res.errors = append(res.errors, msg)
					}
				default:
					res.started++
					if why := unguarded(e, id); why != "" {
						res.unguarded = append(res.unguarded, p.name+"/"+id[:12]+": "+why)
					}
					if at := repaired.Load(); at != 0 {
						after++
						if res.recovery < 0 {
							res.recovery = time.Since(time.Unix(0, at))
						}
					}
				}
				mu.Unlock()
				if id != "" {
					e.crictl("rm", "-f", id)
				}
				if err != nil {
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	f.inject(t, e, files)
	time.Sleep(2 * time.Second)
	f.repair(t, e, files)
	repaired.Store(time.Now().UnixNano())
	wg.Wait()
	return res
}

// errorGist is an error's first line without crictl's log prefix.
func errorGist(s string) string {
	if i := strings.Index(s, "desc = "); i >= 0 {
		s = s[i+len("desc = "):]
	}
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160]
	}
	return s
}

// unguarded reads the spec runc ran for the container and says what of
// the e2e policy's demands it lacks: a seccomp filter (unconfined:
// inject), a read-only root, no_new_privs, and no CAP_NET_RAW (outside
// the capability allowlist).
func unguarded(e *env, id string) string {
	data, err := os.ReadFile(e.path("state", "io.containerd.runtime.v2.task", "k8s.io", id, "config.json"))
	if err != nil {
		return "its bundle's config.json cannot be read: " + err.Error()
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return err.Error()
	}
	var lacks []string
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		lacks = append(lacks, "seccomp")
	}
	if spec.Root == nil || !spec.Root.Readonly {
		lacks = append(lacks, "read-only root")
	}
	if spec.Process == nil || !spec.Process.NoNewPrivileges {
		lacks = append(lacks, "no_new_privs")
	} else if spec.Process.Capabilities != nil && slices.Contains(spec.Process.Capabilities.Bounding, "CAP_NET_RAW") {
		lacks = append(lacks, "CAP_NET_RAW dropped")
	}
	if len(lacks) == 0 {
		return ""
	}
	return fmt.Sprintf("lacks %v", lacks)
}
