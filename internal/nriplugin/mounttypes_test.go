package nriplugin

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	"google.golang.org/protobuf/encoding/protojson"
)

// byNamePlugin hands each container the adjustment kept under its name.
type byNamePlugin struct {
	adj map[string]*api.ContainerAdjustment
}

func (p *byNamePlugin) CreateContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	return p.adj[ctr.GetName()], nil, nil
}

// TestValidationJudgesEveryMountKind runs the routes of
// e2e/adjustments/mounts.json (the mounts the e2e suite's hostile plugin
// adds on real containerd) through NRI's runtime side: a later plugin's
// overlay, bind spelled in options, fresh proc and unknown type are each
// refused in the validation phase, naming the plugin, while a container
// with containerd's default mounts is created.
func TestValidationJudgesEveryMountKind(t *testing.T) {
	raw, err := os.ReadFile("../../e2e/adjustments/mounts.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Routes []struct {
			Name    string          `json:"name"`
			Adjust  json.RawMessage `json:"adjust"`
			Refused string          `json:"refused"`
		} `json:"routes"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	plugin := &byNamePlugin{adj: map[string]*api.ContainerAdjustment{}}
	for _, r := range doc.Routes {
		adj := &api.ContainerAdjustment{}
		if err := protojson.Unmarshal(r.Adjust, adj); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		plugin.adj[r.Name] = adj
	}
	h := newHarness(t, "v2.4.2")
	s, err := stub.New(plugin, stub.WithPluginName("hostile"), stub.WithPluginIdx("90"), stub.WithSocketPath(h.socket))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	// The plugin is consulted a moment after it registers: wait until a
	// probe gets its adjustment, then judge each route once.
	// A tmpfs is a mount kind no rule refuses, from any plugin.
	probe := &api.ContainerAdjustment{}
	probe.AddMount(&api.Mount{Destination: "/probe", Type: "tmpfs", Source: "tmpfs"})
	plugin.adj["probe"] = probe
	waitFor(t, func() (*api.CreateContainerResponse, bool) {
		rpl, err := h.create(testPod("default", "web"), testContainer("probe"))
		return rpl, err == nil && len(rpl.GetAdjust().GetMounts()) > 0
	})
	for _, r := range doc.Routes {
		_, err := h.create(testPod("default", "web"), testContainer(r.Name, defaultMounts()...))
		if err == nil {
			t.Errorf("%s: created", r.Name)
			continue
		}
		for _, want := range []string{r.Refused, "(set by NRI plugin 90-hostile)", "(judged after all NRI plugins ran)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: refusal lacks %q:\n%v", r.Name, want, err)
			}
		}
	}
	if _, err := h.create(testPod("default", "web"), testContainer("benign", defaultMounts()...)); err != nil {
		t.Fatalf("containerd's default mounts must pass: %v", err)
	}
}

// defaultMounts are the mounts containerd 2.x gives every CRI container.
func defaultMounts() []*api.Mount {
	return []*api.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}
