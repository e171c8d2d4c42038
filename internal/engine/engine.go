// Package engine turns a policy and a container view into a decision. It
// is the one place that knows modes: controls report findings, the engine
// decides what enforce and audit make of them.
package engine

import (
	"fmt"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Action is the outcome of a decision.
type Action string

const (
	Allow   Action = "allow"   // nothing to change
	Rewrite Action = "rewrite" // allowed after the rewrites
	Refuse  Action = "refuse"  // not created
	Audit   Action = "audit"   // allowed unchanged; enforce would have acted
)

// Engine is immutable once built, so one decision can run per request
// goroutine without locks; a policy reload builds a new Engine.
type Engine struct {
	policy   *policy.Policy
	controls []controls.Control
	env      *controls.Env
	// unavailable maps control IDs to why they cannot run here.
	unavailable map[string]string
	// modes caches every settings block's modes by control key, so a
	// decision does no reflection and no allocation to find them.
	modes map[*policy.Controls]map[string]policy.Setting[policy.Mode]
}

// New builds an engine for one caller: the controls it cannot serve (e.g.
// seccomp on a runtime that drops seccomp adjustments) are unavailable,
// and its abilities decide how rewrites are served. profiles holds the
// seccomp profiles the policy names (loader.Profiles).
func New(p *policy.Policy, profiles controls.Profiles, caller controls.Caller) *Engine {
	env := &controls.Env{Seccomp: profiles, Caller: caller}
	e := &Engine{policy: p, controls: controls.All, env: env, unavailable: caller.Unavailable(),
		modes: map[*policy.Controls]map[string]policy.Setting[policy.Mode]{}}
	e.modes[&p.Controls] = p.Controls.ModesByKey()
	for _, exc := range p.Exceptions {
		e.modes[&exc.Effective] = exc.Effective.ModesByKey()
	}
	return e
}

// Unavailable names the controls this engine's caller cannot serve, with why.
func (e *Engine) Unavailable() map[string]string { return e.unavailable }

// Policy returns the policy the engine decides by.
func (e *Engine) Policy() *policy.Policy { return e.policy }

// WithPolicy is an engine for the same caller and profiles deciding by
// p: for proving a proposed exception before anyone installs it.
func (e *Engine) WithPolicy(p *policy.Policy) *Engine {
	return New(p, e.env.Seccomp, e.env.Caller)
}

// Decision is the verdict for one container.
type Decision struct {
	Container *view.Container
	Action    Action
	// Findings holds every violation, in enforce and audit mode alike.
	Findings []controls.Finding
	// Rewrites are the changes to make (enforce mode only).
	Rewrites []view.Rewrite
	// Exception is the exception whose settings applied, if any.
	Exception *policy.CompiledException
}

// Decide judges one container; the exception comes from its selectors.
func (e *Engine) Decide(c *view.Container) Decision {
	settings, exc := e.policy.For(workloadOf(c))
	return e.decide(c, settings, exc)
}

// DecideAs judges c under the exception named (none for ""), whatever
// its selectors say: for the runtime wrapper, which learns the choice from
// the NRI plugin's signed record because it cannot see pod labels. The
// one selector the wrapper sees better than NRI is checked again: the
// command line, which a later NRI plugin may have adjusted.
func (e *Engine) DecideAs(c *view.Container, exception string) (Decision, error) {
	if exception == "" {
		return e.decide(c, &e.policy.Controls, nil), nil
	}
	for _, exc := range e.policy.Exceptions {
		if exc.Name != exception {
			continue
		}
		if !exc.Match.MatchesArgs(c.Args, false) {
			return Decision{}, fmt.Errorf("the container's command line %q is not one exception %q pins (match.args): changed after the NRI plugin chose it", c.Args, exception)
		}
		return e.decide(c, &exc.Effective, exc), nil
	}
	return Decision{}, fmt.Errorf("the policy has no exception %q (changed since the container was created?)", exception)
}

func (e *Engine) decide(c *view.Container, settings *policy.Controls, exc *policy.CompiledException) Decision {
	d := Decision{Container: c, Action: Allow, Exception: exc}
	modes := e.modes[settings]
	for _, ctl := range e.controls {
		meta := ctl.Meta()
		mode := modes[meta.Key]
		if mode.Value == policy.Off {
			continue
		}
		if _, skip := e.unavailable[meta.ID]; skip {
			continue
		}
		for _, f := range ctl.Check(c, settings, e.env) {
			f.Mode = mode.Value
			d.add(f)
		}
	}
	if d.Action == Refuse {
		// Nothing of a refused container is made; its rewrite findings
		// still say what enforce would have changed.
		d.Rewrites = nil
	}
	return d
}

func (d *Decision) add(f controls.Finding) {
	d.Findings = append(d.Findings, f)
	switch {
	case f.Mode == policy.Audit:
		if d.Action == Allow {
			d.Action = Audit
		}
	case f.Verdict == controls.Refuse:
		d.Action = Refuse
	default:
		if d.Action != Refuse {
			d.Action = Rewrite
		}
		d.Rewrites = append(d.Rewrites, *f.Rewrite)
	}
}

// Enforced returns the findings enforce mode acts on.
func (d *Decision) Enforced() []controls.Finding {
	var out []controls.Finding
	for _, f := range d.Findings {
		if f.Mode == policy.Enforce {
			out = append(out, f)
		}
	}
	return out
}

// DecideFinal judges a container that nothing can rewrite any more (NRI's
// validation, after all plugins ran): whatever enforce mode would act on
// is a refusal. The engine alone turns modes into verdicts.
func (e *Engine) DecideFinal(c *view.Container) Decision {
	d := e.Decide(c)
	if len(d.Enforced()) == 0 {
		return d
	}
	for i := range d.Findings {
		if d.Findings[i].Mode == policy.Enforce {
			d.Findings[i].Verdict = controls.Refuse
		}
	}
	d.Action, d.Rewrites = Refuse, nil
	return d
}

// Refusal is a refused decision as the error a container's creator
// sees; errors.As finds the decision behind it.
type Refusal struct {
	Decision *Decision
	// Note is said after the findings ("judged after all NRI plugins ran").
	Note string
}

func (r *Refusal) Error() string {
	if r.Note == "" {
		return r.Decision.RefusalText()
	}
	return r.Decision.RefusalText() + " (" + r.Note + ")"
}

// RefusalText is the message a refused container's creator sees. It names
// the workload, then every refusing finding with its rule and a fix.
func (d *Decision) RefusalText() string {
	var parts []string
	for _, f := range d.Findings {
		if f.Mode == policy.Enforce && f.Verdict == controls.Refuse {
			parts = append(parts, f.Text())
		}
	}
	return "nri-guard: refused " + WorkloadName(d.Container) + ": " + strings.Join(parts, "; ")
}

// WorkloadName is namespace/pod/container, the way operators name it.
func WorkloadName(c *view.Container) string {
	return c.Pod.Namespace + "/" + c.Pod.Name + "/" + c.Name
}

func workloadOf(c *view.Container) policy.Workload {
	return policy.Workload{
		Namespace: c.Pod.Namespace,
		Pod:       c.Pod.Name,
		Container: c.Name,
		Image:     c.Image,
		Labels:    c.Pod.Labels,
		Args:      c.Args,
		// the offline check of a manifest, which cannot see the image
		ArgsFromImage: c.ArgsFromImage,
	}
}
