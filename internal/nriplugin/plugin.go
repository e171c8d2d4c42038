// Package nriplugin is nri-guard's NRI half: it judges every container at
// CreateContainer, re-judges the combined result of all plugins in the
// validation phase, and reports running containers that break the policy
// when it (re)connects.
//
// Mount sources reach it as path strings, and it judges those; a path
// can change before runc mounts it. The runtime wrapper judges what each
// bind source really is and mounts that very file (internal/wrapper,
// pin.go): its verdict on the pinned source is the one that counts.
package nriplugin

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/containerd/log"
	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/metrics"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/profiles"
	"github.com/nri-guard/nri-guard/internal/record"
	"github.com/nri-guard/nri-guard/internal/subpath"
	"github.com/nri-guard/nri-guard/internal/view"
	"github.com/nri-guard/nri-guard/internal/view/nriview"
)

// Name is the name nri-guard registers under; containerd's
// required_plugins must list it.
const Name = "nri-guard"

// Plugin holds the state shared by all requests. Requests run
// concurrently; everything they read is immutable or atomic.
type Plugin struct {
	index     string
	name      string // index-name, as NRI names plugin owners
	decisions *decisionlog.Log
	recordKey []byte
	// configure loads what Configure needs (the policy and profiles);
	// the runtime's config text is handed over for pre-registered plugins.
	configure func(config string) (*policy.Policy, controls.Profiles, error)

	state atomic.Pointer[state]
	// pods tells which live sandboxes claim which pod UID (pods.go).
	pods       *pods
	metrics    *metrics.Metrics
	live       *live
	containers *containers
}

// state is replaced whole at every Configure (and policy reload).
type state struct {
	engine  *engine.Engine
	runtime Runtime
	source  nriview.Source
}

// Options configure a Plugin.
type Options struct {
	Index     string
	Decisions *decisionlog.Log
	// RecordKey signs the decision record the runtime wrapper reads; nil
	// writes none (the wrapper then treats every container strictly).
	RecordKey []byte
	// Configure loads the policy; it runs at every (re)registration.
	Configure func(config string) (*policy.Policy, controls.Profiles, error)
	// Metrics, if set, counts decisions, reloads and connections.
	Metrics *metrics.Metrics
}

// New returns a plugin; Run connects it.
func New(o Options) *Plugin {
	return &Plugin{index: o.Index, name: o.Index + "-" + Name, decisions: o.Decisions, configure: o.Configure, recordKey: o.RecordKey, pods: newPods(), metrics: o.Metrics, live: newLive(), containers: newContainers()}
}

// configureFor learns the runtime, loads the policy and subscribes to the
// events this runtime can deliver. nriVersion is what the runtime said of
// its NRI version (empty for old runtimes).
func (p *Plugin) configureFor(ctx context.Context, config, runtime, version, nriVersion string) (api.EventMask, error) {
	pol, env, err := p.configure(config)
	if err != nil {
		p.metrics.PolicyFailed(time.Now())
		log.G(ctx).WithError(err).Error("nri-guard: cannot load the policy; refusing to register")
		return 0, err
	}
	rt := detectRuntime(runtime, version, nriVersion)
	st := &state{
		engine:  engine.New(pol, env, rt.Caller(p.name)),
		runtime: rt,
		source:  nriview.Source{IsHostNamespace: view.HostNamespaceChecker(), SysctlsKnown: rt.SysctlsKnown, ResolveSubPath: subpath.HostPath, LocalhostProfile: profiles.LoadLocalhost},
	}
	p.state.Store(st)
	p.metrics.PolicyLoaded(time.Now())
	log.G(ctx).WithField("policy", pol.Files).Info("nri-guard: " + rt.Summary(st.engine.Unavailable()))
	logOptOuts(ctx, pol, rt)

	events := api.EventMask(0)
	events.Set(api.Event_CREATE_CONTAINER, api.Event_RUN_POD_SANDBOX, api.Event_STOP_POD_SANDBOX, api.Event_REMOVE_POD_SANDBOX, api.Event_REMOVE_CONTAINER)
	if rt.Caps[controls.CapValidation] {
		events.Set(api.Event_VALIDATE_CONTAINER_ADJUSTMENT)
	} else {
		log.G(ctx).Warn("nri-guard: this runtime has no NRI validation phase: plugins after nri-guard can undo its changes, and containers are created while nri-guard is down")
	}
	return events, nil
}

// Reload installs a policy that loaded after a change of its files.
// Requests in flight finish under the old one; the next one sees the new.
func (p *Plugin) Reload(ctx context.Context, pol *policy.Policy, env controls.Profiles) {
	st := p.state.Load()
	if st == nil {
		return // not configured yet: Configure loads the files itself
	}
	p.state.Store(&state{engine: engine.New(pol, env, st.runtime.Caller(p.name)), runtime: st.runtime, source: st.source})
	p.metrics.PolicyLoaded(time.Now())
	log.G(ctx).WithField("policy", pol.Files).Info("nri-guard: policy reloaded")
	logOptOuts(ctx, pol, st.runtime)
}

// ReloadFailed says the changed policy files do not load (the last good
// policy stays in force).
func (p *Plugin) ReloadFailed() { p.metrics.PolicyFailed(time.Now()) }

// logOptOuts names every exception that keeps pods out of the user
// namespace the policy asks for, and every selector a workload may claim.
func logOptOuts(ctx context.Context, pol *policy.Policy, rt Runtime) {
	if w := rt.ImageWarning(pol.ExceptionsByImage()); w != "" {
		log.G(ctx).Warn("nri-guard: " + w)
	}
	for _, line := range pol.UserNamespaceOptOuts() {
		log.G(ctx).Warn("nri-guard: " + line)
	}
	for _, line := range pol.SelectorWarnings() {
		log.G(ctx).Warn("nri-guard: " + line)
	}
}

// Synchronize reports running containers that break the policy. They
// are left alone: stopping workloads is an operator's decision.
func (p *Plugin) Synchronize(ctx context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	st := p.state.Load()
	p.pods.synchronize(pods)
	p.containers.synchronize(pods, ctrs)
	byID := make(map[string]*api.PodSandbox, len(pods))
	for _, pod := range pods {
		byID[pod.GetId()] = pod
	}
	bad := 0
	for _, ctr := range ctrs {
		start := time.Now()
		d := st.engine.Decide(p.view(st, byID[ctr.GetPodSandboxId()], ctr))
		p.metrics.Decided("synchronize", &d, time.Since(start))
		if d.Action == engine.Allow {
			continue
		}
		bad++
		p.logDecision(ctx, "synchronize", &d, "")
		log.G(ctx).WithField("container", engine.WorkloadName(d.Container)).
			Warn("nri-guard: running container breaks the policy (left running): " + summary(&d))
	}
	log.G(ctx).Infof("nri-guard: synchronized %d pods, %d containers, %d breaking the policy", len(pods), len(ctrs), bad)
	return nil, nil
}

// CreateContainer judges a container before it exists.
func (p *Plugin) CreateContainer(ctx context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	st := p.state.Load()
	start := time.Now()
	d := st.engine.Decide(p.view(st, pod, ctr))
	p.metrics.Decided("create", &d, time.Since(start))
	switch d.Action {
	case engine.Refuse:
		err := &engine.Refusal{Decision: &d}
		p.logDecision(ctx, "create", &d, err.Error())
		return nil, nil, err
	}
	p.logDecision(ctx, "create", &d, isolatedNote(st.engine, &d))
	adj, err := adjustment(d.Rewrites)
	if err != nil {
		p.logDecision(ctx, "create", &d, err.Error())
		return nil, nil, err
	}
	p.containers.add(pod, ctr)
	return p.withRecord(adj, ctr.GetId(), &d), nil, nil
}

// view is the container as NRI shows it, with the pod's UID in doubt when
// another live sandbox claims it too.
func (p *Plugin) view(st *state, pod *api.PodSandbox, ctr *api.Container) *view.Container {
	c := nriview.FromNRI(pod, ctr, st.source)
	c.Pod.UIDDoubt = p.pods.doubt(pod)
	return c
}

// RunPodSandbox, StopPodSandbox and RemovePodSandbox keep the view of
// live sandboxes; they cannot refuse anything.
func (p *Plugin) RunPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.pods.run(pod)
	return nil
}

func (p *Plugin) StopPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.pods.stop(pod)
	return nil
}

func (p *Plugin) RemovePodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.pods.stop(pod)
	return nil
}

// withRecord adds the signed decision record for the runtime wrapper.
func (p *Plugin) withRecord(adj *api.ContainerAdjustment, id string, d *engine.Decision) *api.ContainerAdjustment {
	if p.recordKey == nil {
		return adj
	}
	if adj == nil {
		adj = &api.ContainerAdjustment{}
	}
	exc := ""
	if d.Exception != nil {
		exc = d.Exception.Name
	}
	c := d.Container
	who := record.Identity{Type: record.TypeContainer, SandboxID: c.Pod.ID, Namespace: c.Pod.Namespace, Pod: c.Pod.Name, Container: c.Name, Image: c.Image}
	if c.Pod.UIDDoubt == "" {
		who.PodUID = c.Pod.UID // vouched: the wrapper credits pods/<uid> only on this word
	}
	adj.AddAnnotation(record.Annotation, record.Sign(p.recordKey, record.Record{ContainerID: id, Exception: exc, Identity: who}))
	return adj
}

// ValidateContainerAdjustment re-judges the container as all plugins
// together left it. Nothing can be rewritten any more, so whatever enforce
// mode would act on is a refusal, naming the plugin responsible.
func (p *Plugin) ValidateContainerAdjustment(ctx context.Context, req *api.ValidateContainerAdjustmentRequest) error {
	st := p.state.Load()
	start := time.Now()
	pristine := p.view(st, req.GetPod(), req.GetContainer())
	final := nriview.ApplyNRIAdjustment(pristine, req.GetAdjust(), req.GetOwners(), st.source)
	final.Adjustments = append(final.Adjustments, nriview.UpdateAdjustments(req.GetUpdate(), req.GetOwners())...)
	d := st.engine.DecideFinal(final)
	p.metrics.Decided("validate", &d, time.Since(start))
	if d.Action != engine.Refuse {
		if d.Action == engine.Audit {
			p.logDecision(ctx, "validate", &d, "")
		}
		return nil
	}
	err := &engine.Refusal{Decision: &d, Note: "judged after all NRI plugins ran"}
	p.logDecision(ctx, "validate", &d, err.Error())
	return err
}

// logDecision writes one line of the decision log.
func (p *Plugin) logDecision(ctx context.Context, phase string, d *engine.Decision, msg string) {
	p.live.decided(phase, d, msg)
	if p.decisions == nil {
		return
	}
	files := p.state.Load().engine.Policy().Files
	if err := p.decisions.Write(phase, d, files, msg); err != nil {
		log.G(ctx).WithError(err).Error("nri-guard: cannot write the decision log")
	}
}

func summary(d *engine.Decision) string {
	s := ""
	for i, f := range d.Findings {
		if i > 0 {
			s += "; "
		}
		s += f.Text()
	}
	return s
}
