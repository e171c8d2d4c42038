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
		series := []string{
			`nri_guard_decisions_total{action="refuse",phase="create"}`,
			`nri_guard_findings_total{control="host-mounts",mode="enforce",phase="create"}`,
			`nri_guard_decision_duration_seconds_count{phase="create"}`,
			`nri_guard_wrapper_events_total{event="create-rewrite"}`,
		}
		before := scrapeUnix(t, e.metricsSocket())
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
		// Exactly what the two pods did: one refusal and its finding, two
		// container decisions timed, and three creations the wrapper
		// rewrote (both sandboxes, the allowed container; the refused one
		// never reached it).
		for i, want := range []float64{1, 1, 2, 3} {
			if got := seriesValue(out, series[i]) - max(seriesValue(before, series[i]), 0); got != want { // a series not yet there is 0
				t.Errorf("%s grew by %v, want %v", series[i], got, want)
			}
		}
		for _, s := range []string{`nri_guard_runtime_connected`, `nri_guard_policy_generation`} {
			if seriesValue(out, s) != 1 {
				t.Errorf("%s = %v, want 1", s, seriesValue(out, s))
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
