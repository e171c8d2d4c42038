package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/containerd/log"
	"github.com/nri-guard/nri-guard/internal/metrics"
	"github.com/nri-guard/nri-guard/internal/nriplugin"
	"github.com/nri-guard/nri-guard/internal/reload"
)

// liveStatus is what the running plugin answers on its status socket.
type liveStatus struct {
	Version string         `json:"version"`
	Policy  reload.Status  `json:"policy"`
	Plugin  nriplugin.Live `json:"plugin"`
}

// serveStatus answers `nri-guard status` on a root-only Unix socket
// until ctx ends. The guard goes on if it cannot: status falls back to
// the status file and says so.
func serveStatus(ctx context.Context, path string, p *nriplugin.Plugin, status func() *reload.StatusFile) {
	if path == "" {
		return
	}
	l, err := metrics.Listen("unix:" + path)
	if err != nil {
		log.G(ctx).WithError(err).Warn("nri-guard: cannot serve the live status; nri-guard status reads the status file")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(liveStatus{Version: Version, Policy: status().Snapshot(), Plugin: p.Live()})
	})
	mux.HandleFunc("/report", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p.Report())
	})
	mux.HandleFunc("/propose", func(w http.ResponseWriter, _ *http.Request) {
		props, err := p.Propose()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(props)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.G(ctx).WithError(err).Warn("nri-guard: the live status stopped")
		}
	}()
}

// askLive asks the running plugin for its status over its socket.
func askLive(path string) (liveStatus, error) {
	var s liveStatus
	return s, ask(path, "/status", &s)
}

// ask gets one answer of the running plugin and decodes it into v.
func ask(path, what string, v any) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	resp, err := client.Get("http://nri-guard" + what)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
