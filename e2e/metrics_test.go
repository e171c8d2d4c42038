//go:build e2e

package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMetricsEndpoint: after an allowed and a refused pod on real
// containerd, the plugin's endpoint counts both decisions, the decision
// histogram has observations, the connection is up, and the runtime
// wrapper's creations reach it through its tallies.
func TestMetricsEndpoint(t *testing.T) {
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		ok := e.newPod("default", "metrics-ok-"+tag, false)
		defer ok.remove()
		id, err := ok.create(nil)
		if err == nil {
			_, err = e.crictl("start", id)
		}
		if err != nil {
			t.Fatalf("allowed pod: %s", guardText(err.Error()))
		}
		bad := e.newPod("default", "metrics-bad-"+tag, false)
		defer bad.remove()
		if _, err := bad.create(map[string]any{"mounts": []any{map[string]any{"host_path": "/run", "container_path": "/host-run"}}}); err == nil {
			t.Fatal("a pod mounting /run was not refused")
		}
		out := scrapeUnix(t, e.metricsSocket())
		for _, want := range []struct {
			series string
			min    float64
		}{
			{`nri_guard_decisions_total{action="refuse",phase="create"}`, 1},
			{`nri_guard_findings_total{control="host-mounts",mode="enforce",phase="create"}`, 1},
			{`nri_guard_decision_duration_seconds_count{phase="create"}`, 2},
			{`nri_guard_runtime_connected`, 1},
			{`nri_guard_policy_generation`, 1},
			{`nri_guard_wrapper_events_total{event="create-rewrite"}`, 1},
		} {
			if got := seriesValue(out, want.series); got < want.min {
				t.Errorf("%s = %v, want at least %v", want.series, got, want.min)
			}
		}
		if strings.Contains(out, "metrics-bad-"+tag) {
			t.Error("a label carries a pod name")
		}
	})
}

func scrapeUnix(t *testing.T, socket string) string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	resp, err := client.Get("http://nri-guard/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", socket, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// seriesValue is the value of one exact series, or -1 when absent.
func seriesValue(out, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}
