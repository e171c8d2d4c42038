package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/idpool"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/tally"
	"github.com/nri-guard/nri-guard/internal/view"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestFamiliesAndBoundedLabels: the families are served with the counts
// given, and no label ever carries a workload's name or id.
func TestFamiliesAndBoundedLabels(t *testing.T) {
	tallies := t.TempDir()
	tally.Add(tallies, "create-refuse")
	tally.Add(tallies, "strict")
	tally.Add(tallies, "strict")
	pool := idpool.DefaultConfig()
	pool.State = filepath.Join(t.TempDir(), "pool.json")
	p, err := idpool.Open(pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"sandbox-a", "sandbox-b"} {
		if _, err := p.Allocate(owner, owner, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	m := New(tallies, pool.State)
	c := &view.Container{ID: "0123456789abcdef", Name: "app", Pod: view.Pod{Namespace: "shop", Name: "web-7f9", UID: "uid-secret"}, Image: "docker.io/library/nginx:1"}
	refused := engine.Decision{Container: c, Action: engine.Refuse, Findings: []controls.Finding{{Control: "host-mounts", Mode: policy.Enforce}, {Control: "seccomp", Mode: policy.Audit}}}
	m.Decided("create", &refused, 7*time.Microsecond)
	m.Decided("validate", &engine.Decision{Container: c, Action: engine.Allow}, 3*time.Microsecond)
	m.PolicyLoaded(time.Unix(1700000000, 0))
	m.Connected(false)
	m.Connected(true)
	out := scrape(t, m)
	for _, want := range []string{
		`nri_guard_decisions_total{action="refuse",phase="create"} 1`,
		`nri_guard_decisions_total{action="allow",phase="validate"} 1`,
		`nri_guard_findings_total{control="host-mounts",mode="enforce",phase="create"} 1`,
		`nri_guard_findings_total{control="seccomp",mode="audit",phase="create"} 1`,
		`nri_guard_decision_duration_seconds_bucket{phase="create",le="8e-06"} 1`,
		`nri_guard_decision_duration_seconds_count{phase="create"} 1`,
		`nri_guard_policy_generation 1`,
		`nri_guard_policy_last_reload_success 1`,
		`nri_guard_policy_last_reload_timestamp_seconds 1.7e+09`,
		`nri_guard_runtime_connected 1`,
		`nri_guard_runtime_reconnects_total 1`,
		`nri_guard_wrapper_events_total{event="strict"} 2`,
		`nri_guard_wrapper_events_total{event="create-refuse"} 1`,
		`nri_guard_userns_ranges_in_use 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, name := range []string{c.ID, c.Name, c.Pod.Name, c.Pod.Namespace, c.Pod.UID, "nginx"} {
		if strings.Contains(out, `"`+name) {
			t.Errorf("a label carries the workload's %q", name)
		}
	}
	m.Disconnected()
	m.PolicyFailed(time.Unix(1700000100, 0))
	out = scrape(t, m)
	if !strings.Contains(out, "nri_guard_runtime_connected 0") || !strings.Contains(out, "nri_guard_policy_last_reload_success 0") {
		t.Error("disconnection or a failed reload not shown")
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Decided("create", &engine.Decision{}, time.Second)
	m.PolicyLoaded(time.Now())
	m.PolicyFailed(time.Now())
	m.Connected(true)
	m.Disconnected()
}

func TestListenOnlyLoopbackOrUnix(t *testing.T) {
	for _, bad := range []string{"0.0.0.0:9464", ":9464", "198.18.0.1:9464", "unix:relative.sock", "nonsense"} {
		if l, err := Listen(bad); err == nil {
			l.Close()
			t.Errorf("%s accepted", bad)
		}
	}
	for _, good := range []string{"127.0.0.1:0", "unix:" + filepath.Join(t.TempDir(), "m", "metrics.sock")} {
		l, err := Listen(good)
		if err != nil {
			t.Errorf("%s: %v", good, err)
			continue
		}
		m := New("", "")
		go m.Serve(l)
		l.Close()
	}
}
