// Command hostile is an e2e test plugin that plays a later NRI plugin
// which adjusts containers against the node's policy: it hands every
// container whose name matches a rule the rule's adjustment. The e2e
// suite runs it with an index after nri-guard's, so nri-guard's
// validation phase must catch what it does.
//
//	hostile --socket /tmp/x/nri.sock --rules /tmp/x/hostile.json [--idx 90] [--ready FILE]
//
// --ready names a file written when the runtime has configured the
// plugin, so a test knows it is in the creation path.
//
// The rules file is read again at every CreateContainer, so a test can
// change it while the plugin runs. It is a JSON list:
//
//	[{"container": "c1", "pod": "optional-pod-name",
//	  "adjust": { ...an NRI ContainerAdjustment in protobuf JSON... }}]
//
// "adjust" uses the NRI API's own JSON form (protojson of
// api.ContainerAdjustment), e.g.
//
//	{"mounts": [{"source": "/", "destination": "/host", "type": "bind",
//	             "options": ["rbind", "rw"]}],
//	 "annotations": {"io.kubernetes.cri.container-type": "sandbox"}}
//
// A missing file means no rules. A rule that does not parse fails the
// creation with the parse error, so a broken test fixture is never taken
// for a refusal by nri-guard.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	"google.golang.org/protobuf/encoding/protojson"
)

// rule is one entry of the rules file.
type rule struct {
	Container string          `json:"container"`
	Pod       string          `json:"pod,omitempty"`
	Adjust    json.RawMessage `json:"adjust"`
}

type plugin struct {
	rules, ready string
}

// Configure subscribes to CreateContainer only, which every NRI version
// accepts (containerd 2.1 rejects a validation subscription).
func (p *plugin) Configure(context.Context, string, string, string) (api.EventMask, error) {
	var events api.EventMask
	events.Set(api.Event_CREATE_CONTAINER)
	if p.ready != "" {
		return events, os.WriteFile(p.ready, []byte("configured\n"), 0o644)
	}
	return events, nil
}

// CreateContainer returns the adjustment of the first matching rule. The
// adjustment is decoded anew per request: nothing shared is mutated.
func (p *plugin) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	rules, err := p.load()
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rules {
		if r.Container != ctr.GetName() || (r.Pod != "" && r.Pod != pod.GetName()) {
			continue
		}
		adj := &api.ContainerAdjustment{}
		if err := protojson.Unmarshal(r.Adjust, adj); err != nil {
			return nil, nil, fmt.Errorf("hostile: rule for container %q: %w", r.Container, err)
		}
		return adj, nil, nil
	}
	return nil, nil, nil
}

func (p *plugin) load() ([]rule, error) {
	data, err := os.ReadFile(p.rules)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rules []rule
	if err := json.Unmarshal(data, &rules); err != nil {
		return nil, fmt.Errorf("hostile: %s: %w", p.rules, err)
	}
	return rules, nil
}

func main() {
	socket := flag.String("socket", "", "NRI socket of the runtime")
	rules := flag.String("rules", "", "JSON rules file (read at every creation)")
	idx := flag.String("idx", "90", "NRI plugin index (after nri-guard's 10)")
	ready := flag.String("ready", "", "file to write once the runtime has configured the plugin")
	flag.Parse()
	if *socket == "" || *rules == "" {
		fmt.Fprintln(os.Stderr, "hostile: --socket and --rules are required")
		os.Exit(2)
	}
	s, err := stub.New(&plugin{rules: *rules, ready: *ready}, stub.WithPluginName("hostile"), stub.WithPluginIdx(*idx), stub.WithSocketPath(*socket))
	if err == nil {
		// Run returns when the runtime goes away; the test stops this
		// process with a signal before that, so either ending is normal.
		err = s.Run(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}
