package nriplugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/containerd/log"
	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

// Connection says how to reach the runtime.
type Connection struct {
	// SocketPath is the runtime's NRI socket (external plugin).
	SocketPath string
	// PreRegistered: containerd started us with the connection on fd 3;
	// when it closes, containerd is gone and will start a new copy.
	PreRegistered bool
	// OnConnected, if set, is called after each successful registration.
	OnConnected func()
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Run connects to the runtime and serves until ctx ends. An external
// plugin reconnects by itself, with backoff, whenever the runtime goes
// away (containerd restarts do not bring plugins back). A configuration
// error (a bad policy) ends Run at once: the runtime's required_plugins
// then keeps refusing containers, which is the fail-closed state.
func (p *Plugin) Run(ctx context.Context, conn Connection) error {
	backoff := minBackoff
	registered := 0
	for attempt := 1; ; attempt++ {
		closed, err := p.connect(ctx, conn)
		switch {
		case err == nil:
			backoff = minBackoff
			p.metrics.Connected(registered > 0)
			p.live.setConnected(true)
			registered++
			if conn.OnConnected != nil {
				conn.OnConnected()
			}
			select {
			case <-closed:
				p.metrics.Disconnected()
				p.live.setConnected(false)
			case <-ctx.Done():
				return nil
			}
			if conn.PreRegistered {
				return errors.New("connection to the runtime lost; the runtime restarts pre-registered plugins itself")
			}
			log.G(ctx).Warn("nri-guard: connection to the runtime lost; reconnecting")
			continue
		case errors.Is(err, errConfigure):
			return err
		case conn.PreRegistered:
			return err
		}
		log.G(ctx).WithError(err).Warnf("nri-guard: cannot connect to the runtime (attempt %d); retrying in %s", attempt, backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

var errConfigure = errors.New("configuration failed")

// failurePolicy asks the runtime to fail a creation whose request to
// nri-guard timed out or broke off, instead of letting it through
// unjudged (NRI's "scenario D"), and to keep nri-guard registered after
// a timeout, so one slow request on a loaded node fails that creation
// alone rather than dropping the guard. Runtimes whose NRI predates
// failure policies (every containerd released by late 2026) ignore it;
// there the runtime wrapper's strict treatment of a container without a
// record covers the window.
var failurePolicy = &api.FailurePolicy{FailRequest: true, KeepConnected: true}

// connect registers one stub and returns a channel closed when the
// connection drops.
func (p *Plugin) connect(ctx context.Context, conn Connection) (<-chan struct{}, error) {
	closed := make(chan struct{})
	opts := []stub.Option{stub.WithOnClose(func() { close(closed) }), stub.WithFailurePolicy(failurePolicy)}
	if !conn.PreRegistered {
		// A pre-registered plugin takes its name and index from the
		// environment containerd sets; an external one names itself.
		opts = append(opts, stub.WithPluginName(Name), stub.WithPluginIdx(p.index),
			stub.WithSocketPath(conn.SocketPath))
	}
	var configErr error
	handlers := &configureTracker{Plugin: p, err: &configErr}
	s, err := stub.New(handlers, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating NRI stub: %w", err)
	}
	handlers.nriVersion = s.RuntimeNRIVersion
	if err := s.Start(ctx); err != nil {
		s.Stop()
		if configErr != nil {
			return nil, fmt.Errorf("%w: %w", errConfigure, configErr)
		}
		return nil, err
	}
	return closed, nil
}

// configureTracker remembers whether registration failed in Configure
// (our fault: a bad policy) rather than on the wire (retry).
type configureTracker struct {
	*Plugin
	err        *error
	nriVersion func() string
}

func (t *configureTracker) Configure(ctx context.Context, config, runtime, version string) (api.EventMask, error) {
	events, err := t.Plugin.configureFor(ctx, config, runtime, version, t.nriVersion())
	*t.err = err
	return events, err
}

// PreRegistered reports whether containerd started this process as a
// pre-registered plugin (it passes the connection as a file descriptor).
func PreRegistered() bool {
	return os.Getenv(api.PluginSocketEnvVar) != ""
}
