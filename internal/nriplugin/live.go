package nriplugin

import (
	"sync"
	"time"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
)

// RecentRefusals is how many refusals the live status keeps (the
// plugin's, and those of the runtime wrapper `nri-guard status` reads).
const RecentRefusals = 10

// live is what `nri-guard status` asks the running plugin: counts since
// start and the last refusals. Decisions write it under its own lock.
type live struct {
	mu        sync.Mutex
	started   time.Time
	connected bool
	counts    map[string]map[string]int64 // phase → action → decisions
	refusals  []Refusal                   // newest last
}

// Refusal is one refusal as the live status shows it.
type Refusal struct {
	Time     time.Time `json:"time"`
	Phase    string    `json:"phase"`
	Workload string    `json:"workload"`
	Text     string    `json:"text"`
}

// Live is a snapshot of the running plugin.
type Live struct {
	Started   time.Time `json:"started"`
	Connected bool      `json:"connected"`
	Runtime   string    `json:"runtime,omitempty"`
	// Active are the controls the plugin serves on this runtime; Wrapper
	// those left to the runtime wrapper; Unavailable the rest, with why.
	Active      []string                    `json:"active,omitempty"`
	Wrapper     []string                    `json:"wrapper,omitempty"`
	Unavailable map[string]string           `json:"unavailable,omitempty"`
	Counts      map[string]map[string]int64 `json:"counts"`
	Refusals    []Refusal                   `json:"refusals"`
}

func newLive() *live {
	return &live{started: time.Now().UTC(), counts: map[string]map[string]int64{}}
}

func (l *live) decided(phase string, d *engine.Decision, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts[phase] == nil {
		l.counts[phase] = map[string]int64{}
	}
	l.counts[phase][string(d.Action)]++
	if d.Action != engine.Refuse {
		return
	}
	if len(l.refusals) == RecentRefusals {
		l.refusals = append(l.refusals[:0:0], l.refusals[1:]...)
	}
	l.refusals = append(l.refusals, Refusal{Time: time.Now().UTC(), Phase: phase, Workload: engine.WorkloadName(d.Container), Text: msg})
}

func (l *live) setConnected(on bool) {
	l.mu.Lock()
	l.connected = on
	l.mu.Unlock()
}

// Live reports the running plugin's state.
func (p *Plugin) Live() Live {
	p.live.mu.Lock()
	out := Live{Started: p.live.started, Connected: p.live.connected, Counts: map[string]map[string]int64{}, Refusals: append([]Refusal{}, p.live.refusals...)}
	for phase, byAction := range p.live.counts {
		out.Counts[phase] = map[string]int64{}
		for a, n := range byAction {
			out.Counts[phase][a] = n
		}
	}
	p.live.mu.Unlock()
	st := p.state.Load()
	if st == nil {
		return out
	}
	out.Runtime = p.RuntimeSummary()
	out.Unavailable = map[string]string{}
	for id, why := range st.engine.Unavailable() {
		out.Unavailable[id] = why
	}
	for _, c := range controls.All {
		m := c.Meta()
		switch _, off := out.Unavailable[m.ID]; {
		case !off:
			out.Active = append(out.Active, m.ID)
		case m.Needs == controls.CapFullSpec:
			out.Wrapper = append(out.Wrapper, m.ID)
			delete(out.Unavailable, m.ID)
		}
	}
	return out
}
