// Package metrics is the NRI plugin's Prometheus endpoint: decisions,
// findings and decision time, the policy in force and its reloads, the
// connection to the runtime, and the runtime wrapper's counts (which a
// short-lived wrapper leaves in tally files for the plugin to serve). It
// is off unless asked for, and listens on a Unix socket or a loopback
// address only: the numbers say which workloads a node refuses. Labels
// are bounded (phase, action, control, mode, event): never a container,
// pod or image name.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/idpool"
	"github.com/nri-guard/nri-guard/internal/tally"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the plugin's metrics. A nil *Metrics records nothing, so
// callers need not ask whether metrics are on.
type Metrics struct {
	registry   *prometheus.Registry
	decisions  *prometheus.CounterVec
	findings   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	generation prometheus.Gauge
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
	connected  prometheus.Gauge
	reconnects prometheus.Counter
}

// decisionBuckets run from 1 µs to about 0.5 s: a decision takes
// microseconds, which containerd's own NRI latency histogram (from 5 ms)
// cannot see.
var decisionBuckets = prometheus.ExponentialBuckets(1e-6, 2, 20)

// New builds the metrics; tallies is the runtime wrapper's tally
// directory ("" for none).
func New(tallies, poolState string) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nri_guard_decisions_total",
			Help: "Decisions by phase (create, validate, synchronize) and action (allow, rewrite, refuse, audit)."}, []string{"phase", "action"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nri_guard_findings_total",
			Help: "Findings by phase, control and mode (enforce, audit): what each control found."}, []string{"phase", "control", "mode"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nri_guard_decision_duration_seconds",
			Help: "Time to build the view and decide, by phase.", Buckets: decisionBuckets}, []string{"phase"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nri_guard_policy_generation",
			Help: "How many policies have been put in force since start (1 after the first load)."}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nri_guard_policy_last_reload_success",
			Help: "1 if the policy files on disk loaded at the last look, 0 if they do not (the last good policy stays in force)."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nri_guard_policy_last_reload_timestamp_seconds",
			Help: "When the policy files were last loaded or failed to load, as a Unix time."}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nri_guard_runtime_connected",
			Help: "1 while the plugin is registered with the runtime."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "nri_guard_runtime_reconnects_total",
			Help: "Registrations with the runtime after the first one."}),
	}
	m.registry.MustRegister(m.decisions, m.findings, m.latency, m.generation, m.reloadOK, m.reloadTime, m.connected, m.reconnects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if tallies != "" {
		m.registry.MustRegister(wrapperCollector{dir: tallies})
	}
	if poolState != "" {
		m.registry.MustRegister(poolCollector{state: poolState})
	}
	return m
}

// Decided counts one decision and how long it took.
func (m *Metrics) Decided(phase string, d *engine.Decision, took time.Duration) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(phase, string(d.Action)).Inc()
	for _, f := range d.Findings {
		m.findings.WithLabelValues(phase, f.Control, string(f.Mode)).Inc()
	}
	m.latency.WithLabelValues(phase).Observe(took.Seconds())
}

// PolicyLoaded says a policy went into force; PolicyFailed that the files
// on disk do not load.
func (m *Metrics) PolicyLoaded(at time.Time) {
	if m == nil {
		return
	}
	m.generation.Inc()
	m.reloadOK.Set(1)
	m.reloadTime.Set(float64(at.Unix()))
}

func (m *Metrics) PolicyFailed(at time.Time) {
	if m == nil {
		return
	}
	m.reloadOK.Set(0)
	m.reloadTime.Set(float64(at.Unix()))
}

// Connected says the plugin registered (again); Disconnected that the
// connection dropped.
func (m *Metrics) Connected(again bool) {
	if m == nil {
		return
	}
	m.connected.Set(1)
	if again {
		m.reconnects.Inc()
	}
}

func (m *Metrics) Disconnected() {
	if m != nil {
		m.connected.Set(0)
	}
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Listen opens the endpoint: "unix:/path" (a socket only root can use)
// or "host:port" on a loopback address.
func Listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !filepath.IsAbs(path) {
			return nil, fmt.Errorf("metrics: %q: a Unix socket path must be absolute", addr)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(path, 0o600); err != nil {
			l.Close()
			return nil, err
		}
		return l, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %q: want unix:/path or a loopback host:port: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("metrics: %q: only a loopback address or a Unix socket; the metrics name what the node refuses", addr)
	}
	return net.Listen("tcp", addr)
}

// Serve serves the endpoint on l until the listener closes.
func (m *Metrics) Serve(l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	err := srv.Serve(l)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// wrapperCollector serves the runtime wrapper's tallies at each scrape.
type wrapperCollector struct{ dir string }

var wrapperEvents = prometheus.NewDesc("nri_guard_wrapper_events_total",
	"The runtime wrapper's events: create-<action> for its decisions, strict for a container judged without a verified decision record, refused-<verb> for every refusal it returned, log-dropped for decision log lines it could not write, log-rotate-failed for lines written to a log it could not rotate.",
	[]string{"event"}, nil)

func (wrapperCollector) Describe(ch chan<- *prometheus.Desc) { ch <- wrapperEvents }

func (w wrapperCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := tally.Read(w.dir)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(wrapperEvents, err)
		return
	}
	for event, n := range counts {
		ch <- prometheus.MustNewConstMetric(wrapperEvents, prometheus.CounterValue, float64(n), event)
	}
}

// poolCollector serves the user namespace pool's use at each scrape, read
// from the pool's file (the wrapper gives the ranges out; the plugin only
// reads).
type poolCollector struct{ state string }

var poolInUse = prometheus.NewDesc("nri_guard_userns_ranges_in_use",
	"Host id ranges of the user namespace pool held now: one per pod the runtime wrapper gave a user namespace.",
	nil, nil)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) { ch <- poolInUse }

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	entries, err := idpool.ReadEntries(p.state)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(poolInUse, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(len(entries)))
}
