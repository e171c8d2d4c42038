package nriplugin

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
)

// containers is the plugin's view of the node's containers, from NRI's
// Synchronize and lifecycle events: what `nri-guard report` judges
// against the policy in force now. A removed container's entry goes with
// it, so the view does not grow with churn.
type containers struct {
	mu   sync.Mutex
	byID map[string]entry
}

type entry struct {
	pod *api.PodSandbox
	ctr *api.Container
}

func newContainers() *containers { return &containers{byID: map[string]entry{}} }

func (r *containers) synchronize(pods []*api.PodSandbox, ctrs []*api.Container) {
	byPod := make(map[string]*api.PodSandbox, len(pods))
	for _, p := range pods {
		byPod[p.GetId()] = p
	}
	all := make(map[string]entry, len(ctrs))
	for _, c := range ctrs {
		all[c.GetId()] = entry{pod: byPod[c.GetPodSandboxId()], ctr: c}
	}
	r.mu.Lock()
	r.byID = all
	r.mu.Unlock()
}

func (r *containers) add(pod *api.PodSandbox, ctr *api.Container) {
	r.mu.Lock()
	r.byID[ctr.GetId()] = entry{pod: pod, ctr: ctr}
	r.mu.Unlock()
}

func (r *containers) remove(ctr *api.Container) {
	r.mu.Lock()
	delete(r.byID, ctr.GetId())
	r.mu.Unlock()
}

func (r *containers) list() []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]entry, 0, len(r.byID))
	for _, e := range r.byID {
		out = append(out, e)
	}
	return out
}

// RemoveContainer keeps the view of running containers.
func (p *Plugin) RemoveContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) error {
	p.containers.remove(ctr)
	return nil
}

// Judged is one running container judged under the policy in force now.
type Judged struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	ID        string `json:"id"`
	Image     string `json:"image"`
	// Enforce is what enforce mode would do if it were created today
	// (allow, rewrite, refuse), whatever mode the policy is in.
	Enforce   string   `json:"enforce"`
	Exception string   `json:"exception,omitempty"`
	Findings  []string `json:"findings,omitempty"`
}

// Report judges every running container the plugin knows of as if it
// were created now, sorted by namespace, pod and container.
func (p *Plugin) Report() []Judged {
	st := p.state.Load()
	if st == nil {
		return nil
	}
	var out []Judged
	for _, e := range p.containers.list() {
		d := st.engine.Decide(p.view(st, e.pod, e.ctr))
		j := Judged{Namespace: d.Container.Pod.Namespace, Pod: d.Container.Pod.Name, Container: d.Container.Name, ID: d.Container.ID,
			Image: d.Container.Image, Enforce: underEnforce(&d)}
		if d.Exception != nil {
			j.Exception = d.Exception.Name
		}
		for _, f := range d.Findings {
			j.Findings = append(j.Findings, f.Text())
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b Judged) int {
		return strings.Compare(a.Namespace+"/"+a.Pod+"/"+a.Container+"/"+a.ID, b.Namespace+"/"+b.Pod+"/"+b.Container+"/"+b.ID)
	})
	return out
}

// underEnforce is what enforce mode would do with the findings: a control
// in audit or enforce mode alike.
func underEnforce(d *engine.Decision) string {
	action := engine.Allow
	for _, f := range d.Findings {
		switch f.Verdict {
		case controls.Refuse:
			return string(engine.Refuse)
		case controls.Rewrite:
			action = engine.Rewrite
		}
	}
	return string(action)
}
