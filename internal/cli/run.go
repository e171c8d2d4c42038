package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/log"
	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/layout"
	"github.com/nri-guard/nri-guard/internal/metrics"
	"github.com/nri-guard/nri-guard/internal/nriplugin"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/record"
	"github.com/nri-guard/nri-guard/internal/reload"
	"github.com/nri-guard/nri-guard/internal/tally"
	"gopkg.in/yaml.v3"
)

// runExternal runs nri-guard as a process that connects to the runtime's
// NRI socket and reconnects whenever the runtime restarts.
func runExternal(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("nri-guard run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf policyFlags
	pf.register(fs)
	socket := fs.String("socket", "/var/run/nri/nri.sock", "the runtime's NRI socket")
	decisions := fs.String("decision-log", DefaultDecisions, `decision log file ("-" for standard output)`)
	logFile := fs.String("log-file", "", "log file (default: standard error)")
	idx := fs.String("plugin-idx", "10", "NRI plugin index: order among plugins (validation runs after all of them)")
	keyFile := fs.String("record-key", DefaultRecordKey, "key that signs decision records for the runtime wrapper (created, 0600, if missing)")
	lastGood := fs.String("last-good", DefaultLastGood, "directory that keeps a copy of the last policy that loaded, for the runtime wrapper")
	interval := fs.Duration("reload-interval", 2*time.Second, "how often to look for policy changes (0: never)")
	statusPath := fs.String("status-file", reload.DefaultStatusPath, `where to report the policy in force and the last change that did not load, for "nri-guard status" ("" for nowhere)`)
	level := fs.String("log-level", "info", "log level")
	rot := defaultRotation()
	rot.register(fs)
	statusSocket := fs.String("status-socket", layout.Node().StatusSocket, `where to answer "nri-guard status" live, a root-only Unix socket ("" for nowhere)`)
	metricsAddr := fs.String("metrics", "", `serve Prometheus metrics at unix:/path or a loopback host:port ("": off)`)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nri-guard run: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if err := setupLogging(*logFile, *level, stderr); err != nil {
		fmt.Fprintln(stderr, "nri-guard:", err)
		return exitFail
	}
	status := reload.NewStatusFile(*statusPath, pf.file, pf.dir)
	// Load once before connecting, so a bad policy stops start-up with
	// the exact error instead of a registration failure in containerd.
	if _, _, err := pf.load(); err != nil {
		reportStatus(status.Failed(err))
		fmt.Fprintf(stderr, "nri-guard: bad policy, not starting:\n%v\n", err)
		return exitFail
	}
	var key []byte
	dl, err := openDecisionLog(*decisions, rot)
	if err == nil {
		key, err = record.LoadOrCreateKey(*keyFile)
	}
	if err != nil {
		fmt.Fprintln(stderr, "nri-guard:", err)
		return exitFail
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var m *metrics.Metrics
	if *metricsAddr != "" {
		m = metrics.New(layout.Node().Tallies, layout.Node().UserNamespacePool)
		if err := serveMetrics(ctx, m, *metricsAddr); err != nil {
			fmt.Fprintln(stderr, "nri-guard:", err)
			return exitFail
		}
	}
	p := nriplugin.New(nriplugin.Options{
		Index:     *idx,
		RecordKey: key,
		Decisions: dl,
		Metrics:   m,
		Configure: func(string) (*policy.Policy, controls.Profiles, error) { return loadAndKeep(&pf, *lastGood, status) },
	})
	watch(ctx, p, &pf, *lastGood, *interval, status)
	serveStatus(ctx, *statusSocket, p, func() *reload.StatusFile { return status })
	return serve(ctx, p, nriplugin.Connection{SocketPath: *socket, OnConnected: connected(p, status)}, stderr)
}

// serveMetrics opens the metrics endpoint at addr and serves m there
// until ctx ends.
func serveMetrics(ctx context.Context, m *metrics.Metrics, addr string) error {
	l, err := metrics.Listen(addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	go func() {
		if err := m.Serve(l); err != nil {
			log.G(ctx).WithError(err).Error("nri-guard: the metrics endpoint stopped")
		}
	}()
	log.G(ctx).Info("nri-guard: serving metrics at " + addr)
	return nil
}

// connected records the runtime in the status once registration is done.
func connected(p *nriplugin.Plugin, status *reload.StatusFile) func() {
	return func() { reportStatus(status.Connected(p.RuntimeSummary())) }
}

// reportStatus logs a status that could not be written: the guard goes
// on, only `nri-guard status` goes stale.
func reportStatus(err error) {
	if err != nil {
		log.L.WithError(err).Warn("nri-guard: cannot write the status file")
	}
}

// loadAndKeep loads the policy, reports it in the status and, when it
// loads, keeps a copy for the runtime wrapper's fallback.
func loadAndKeep(pf *policyFlags, lastGood string, status *reload.StatusFile) (*policy.Policy, controls.Profiles, error) {
	pol, env, err := pf.load()
	if err != nil {
		reportStatus(status.Failed(err))
	} else {
		reportStatus(status.Loaded(pol))
	}
	if err == nil && lastGood != "" {
		if serr := reload.Snapshot(pol, lastGood); serr != nil {
			log.L.WithError(serr).Warn("nri-guard: cannot keep a copy of the policy for the runtime wrapper")
		}
	}
	return pol, env, err
}

// watch re-reads the policy when its files change. A policy that does
// not load is logged with file and line and never replaces the one in
// force.
func watch(ctx context.Context, p *nriplugin.Plugin, pf *policyFlags, lastGood string, interval time.Duration, status *reload.StatusFile) {
	if interval <= 0 {
		return
	}
	w := &reload.Watcher{
		File: pf.file, Dir: pf.dir, Interval: interval,
		Apply: func(pol *policy.Policy, env controls.Profiles) {
			if lastGood != "" {
				if err := reload.Snapshot(pol, lastGood); err != nil {
					log.G(ctx).WithError(err).Warn("nri-guard: cannot keep a copy of the policy for the runtime wrapper")
				}
			}
			p.Reload(ctx, pol, env)
			reportStatus(status.Loaded(pol))
		},
		Failed: func(err error) {
			p.ReloadFailed()
			reportStatus(status.Failed(err))
			log.G(ctx).WithField("error", err.Error()).Error("nri-guard: the changed policy does not load; the last good policy stays in force")
		},
	}
	go w.Run(ctx)
}

// preRegisteredConfig is the plugin's conf file, which containerd reads
// from its plugin_config_path and hands over at Configure.
type preRegisteredConfig struct {
	Policy      string `yaml:"policy"`
	PolicyDir   string `yaml:"policyDir"`
	DecisionLog string `yaml:"decisionLog"`
	LogFile     string `yaml:"logFile"`
	LogLevel    string `yaml:"logLevel"`
	RecordKey   string `yaml:"recordKey"`
	LastGood    string `yaml:"lastGood"`
	StatusFile  string `yaml:"statusFile"`
	// StatusSocket is where the plugin answers `nri-guard status` live.
	StatusSocket string `yaml:"statusSocket"`
	// ReloadInterval is a Go duration ("2s"); "0s" turns reloading off.
	ReloadInterval time.Duration `yaml:"reloadInterval"`
	// Metrics is where to serve Prometheus metrics (unix:/path or a
	// loopback host:port); "" is off.
	Metrics     string `yaml:"metrics"`
	logRotation `yaml:",inline"`
}

// runPreRegistered runs nri-guard as started by containerd from its plugin
// directory: no flags, the connection on a file descriptor, stdout not
// captured (so logs go to a file), configuration in the conf file.
func runPreRegistered(stderr io.Writer) int {
	if err := setupLogging(DefaultLogFile, "info", stderr); err != nil {
		fmt.Fprintln(stderr, "nri-guard:", err)
		return exitFail
	}
	dl := decisionlog.New(decisionlog.Stream(io.Discard))
	// The key is learnt at Configure (from the conf file); the plugin holds
	// the buffer it is copied into.
	keyBuf := make([]byte, record.KeySize)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var watchOnce sync.Once
	var p *nriplugin.Plugin
	// Set at Configure, which runs before OnConnected.
	var status *reload.StatusFile
	// The conf file, which says whether to serve them, arrives only at
	// Configure; counting costs nothing until then.
	m := metrics.New(layout.Node().Tallies, layout.Node().UserNamespacePool)
	p = nriplugin.New(nriplugin.Options{
		Index:     os.Getenv(api.PluginIdxEnvVar),
		RecordKey: keyBuf,
		Decisions: dl,
		Metrics:   m,
		Configure: func(config string) (*policy.Policy, controls.Profiles, error) {
			cfg, err := parsePreRegisteredConfig(config)
			if err != nil {
				return nil, nil, err
			}
			if err := setupLogging(cfg.LogFile, cfg.LogLevel, stderr); err != nil {
				return nil, nil, err
			}
			out, err := openDecisionFile(cfg.DecisionLog, cfg.logRotation)
			if err != nil {
				return nil, nil, err
			}
			dl.SetOutput(out)
			key, err := record.LoadOrCreateKey(cfg.RecordKey)
			if err != nil {
				return nil, nil, err
			}
			copy(keyBuf, key)
			pf := policyFlags{file: cfg.Policy, dir: cfg.PolicyDir}
			watchOnce.Do(func() {
				// The metrics are not the guard: a bad address is logged,
				// and containers go on being judged.
				if cfg.Metrics != "" {
					if err := serveMetrics(ctx, m, cfg.Metrics); err != nil {
						log.G(ctx).WithError(err).Error("nri-guard: cannot serve metrics")
					}
				}
				status = reload.NewStatusFile(cfg.StatusFile, pf.file, pf.dir)
				serveStatus(ctx, cfg.StatusSocket, p, func() *reload.StatusFile { return status })
				watch(ctx, p, &pf, cfg.LastGood, cfg.ReloadInterval, status)
			})
			return loadAndKeep(&pf, cfg.LastGood, status)
		},
	})
	return serve(ctx, p, nriplugin.Connection{PreRegistered: true, OnConnected: func() { connected(p, status)() }}, stderr)
}

func parsePreRegisteredConfig(text string) (preRegisteredConfig, error) {
	cfg := preRegisteredConfig{Policy: DefaultPolicy, PolicyDir: DefaultPolicyDir, DecisionLog: DefaultDecisions, LogFile: DefaultLogFile, LogLevel: "info", RecordKey: DefaultRecordKey, LastGood: DefaultLastGood, StatusFile: reload.DefaultStatusPath, StatusSocket: layout.Node().StatusSocket, ReloadInterval: 2 * time.Second, logRotation: defaultRotation()}
	if len(bytes.TrimSpace([]byte(text))) == 0 {
		return cfg, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("plugin conf file (from containerd's plugin_config_path): %w", err)
	}
	return cfg, nil
}

func serve(ctx context.Context, p *nriplugin.Plugin, conn nriplugin.Connection, stderr io.Writer) int {
	if err := p.Run(ctx, conn); err != nil {
		log.G(ctx).WithError(err).Error("nri-guard: stopped")
		fmt.Fprintln(stderr, "nri-guard:", err)
		return exitFail
	}
	return exitOK
}

func setupLogging(file, level string, stderr io.Writer) error {
	if err := log.SetLevel(level); err != nil {
		return err
	}
	if err := log.SetFormat(log.JSONFormat); err != nil {
		return err
	}
	if file == "" {
		log.L.Logger.SetOutput(stderr)
		return nil
	}
	out, err := openAppend(file)
	if err != nil {
		return err
	}
	log.L.Logger.SetOutput(out)
	return nil
}

// logRotation is how big the decision log grows before it is rotated,
// and how many rotated files are kept.
type logRotation struct {
	MaxBytes int64 `yaml:"decisionLogMaxBytes"`
	Keep     int   `yaml:"decisionLogKeep"`
}

func defaultRotation() logRotation {
	return logRotation{MaxBytes: decisionlog.DefaultMaxBytes, Keep: decisionlog.DefaultKeep}
}

func (r *logRotation) register(fs *flag.FlagSet) {
	fs.Int64Var(&r.MaxBytes, "decision-log-max-bytes", r.MaxBytes, "rotate the decision log when it grows past this size (0: never)")
	fs.IntVar(&r.Keep, "decision-log-keep", r.Keep, "rotated decision logs to keep (FILE.1 ... FILE.N)")
}

func openDecisionLog(path string, rot logRotation) (*decisionlog.Log, error) {
	out, err := openDecisionFile(path, rot)
	if err != nil {
		return nil, err
	}
	return decisionlog.New(out), nil
}

// openDecisionFile opens the log the plugin and the wrappers share; "-"
// is standard output (not rotated).
func openDecisionFile(path string, rot logRotation) (decisionlog.LineWriter, error) {
	if path == "-" {
		return decisionlog.Stream(os.Stdout), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f := &decisionlog.File{Path: path, MaxBytes: rot.MaxBytes, Keep: rot.Keep}
	f.Pending, f.Reported = tally.DroppedLines(layout.Node().Tallies)
	return f, nil
}

// openAppend opens a log for appending; O_APPEND makes each line's single
// write land whole even if two processes share the file.
func openAppend(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
}
