// Command nridump is an e2e test plugin: it records, as one JSON line per
// event, what an NRI plugin is shown at Configure and CreateContainer, and
// changes nothing. The e2e suite uses it to pin down which NRI fields each
// containerd version fills, since that decides what nri-guard can judge.
//
//	nridump --socket /tmp/x/nri.sock --out /tmp/x/nridump.jsonl
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

type recorder struct {
	mu  sync.Mutex
	out *os.File
}

// record is one line of the output file.
type record struct {
	Event          string          `json:"event"`
	RuntimeName    string          `json:"runtimeName,omitempty"`
	RuntimeVersion string          `json:"runtimeVersion,omitempty"`
	Pod            *api.PodSandbox `json:"pod,omitempty"`
	Container      *api.Container  `json:"container,omitempty"`
}

func (r *recorder) write(rec record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err = r.out.Write(append(data, '\n'))
	return err
}

// Configure records the runtime; subscribing to nothing beyond
// CreateContainer keeps the plugin acceptable to every NRI version
// (containerd 2.1 rejects a validation subscription).
func (r *recorder) Configure(_ context.Context, _, runtime, version string) (api.EventMask, error) {
	return 0, r.write(record{Event: "configure", RuntimeName: runtime, RuntimeVersion: version})
}

func (r *recorder) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	return nil, nil, r.write(record{Event: "create", Pod: pod, Container: ctr})
}

func main() {
	socket := flag.String("socket", "", "NRI socket of the runtime")
	out := flag.String("out", "", "file to append JSON lines to")
	flag.Parse()
	if *socket == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "nridump: --socket and --out are required")
		os.Exit(2)
	}
	if err := run(*socket, *out); err != nil {
		fmt.Fprintln(os.Stderr, "nridump:", err)
		os.Exit(1)
	}
}

func run(socket, out string) error {
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	s, err := stub.New(&recorder{out: f}, stub.WithPluginName("nridump"), stub.WithPluginIdx("50"), stub.WithSocketPath(socket))
	if err != nil {
		return err
	}
	// Run returns when the runtime goes away; the test stops this process
	// with a signal before that, so either ending is normal.
	return s.Run(context.Background())
}
