package nriplugin

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/policy"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// stallingWriter blocks every write while stalled is set, until release
// is closed: it makes nri-guard's CreateContainer outlast the runtime's
// request timeout, as a plugin SIGSTOPped or starved on a loaded node does.
type stallingWriter struct {
	stalled atomic.Bool
	release chan struct{}
}

func (w *stallingWriter) Write(p []byte) (int, error) {
	if w.stalled.Load() {
		<-w.release
	}
	return len(p), nil
}

// TestTimedOutRequestFailsTheCreation: with nri-guard's failure policy a
// runtime whose NRI honours failure policies (v0.12.4+, here NRI's own
// runtime side) fails a creation whose request to nri-guard timed out,
// instead of letting the container through unjudged, and keeps nri-guard
// registered for the next one.
func TestTimedOutRequestFailsTheCreation(t *testing.T) {
	adaptation.SetPluginRequestTimeout(300 * time.Millisecond)
	t.Cleanup(func() { adaptation.SetPluginRequestTimeout(adaptation.DefaultPluginRequestTimeout) })
	h := &harness{t: t, connected: make(chan struct{}, 10)}
	h.dir = t.TempDir()
	h.socket = h.dir + "/nri.sock"
	h.startRuntime("v2.4.2")

	w := &stallingWriter{release: make(chan struct{})}
	p := New(Options{
		Index:     "10",
		Decisions: decisionlog.New(decisionlog.Stream(w)),
		Configure: func(string) (*policy.Policy, controls.Profiles, error) {
			pol, err := policy.Parse(policy.Input{Name: "policy.yaml", Data: []byte(testPolicy)})
			return pol, controls.Profiles(map[policy.HostPath]*specs.LinuxSeccomp{"": testProfile}), err
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, Connection{SocketPath: h.socket, OnConnected: func() { h.connected <- struct{}{} }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	h.waitReady()

	w.stalled.Store(true)
	_, err := h.create(testPod("default", "slow"), testContainer("slow"))
	w.stalled.Store(false)
	close(w.release)
	if err == nil {
		t.Fatal("a creation whose request to nri-guard timed out was let through")
	}
	if !strings.Contains(err.Error(), Name) {
		t.Errorf("the failure does not name the plugin: %v", err)
	}
	if _, err := h.create(testPod("default", "next"), testContainer("next")); err != nil {
		t.Fatalf("nri-guard was not kept registered after the timeout: %v", err)
	}
}
