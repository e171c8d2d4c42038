// Package kubepod translates a Kubernetes pod (or a workload's pod
// template) into the OCI runtime specs kubelet and containerd would build
// for it, for the fields nri-guard's controls read, so `nri-guard check
// pod.yaml` judges a manifest with the same engine and policy as the node.
// Where the manifest does not say (the image's user, the node's LSMs,
// kubelet flags), the translation assumes and says so.
//
// Only the offline check links this package: the runtime wrapper and the
// NRI plugin never see a manifest.
package kubepod

import (
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Options are node facts a manifest does not carry.
type Options struct {
	// ImageUID is the user the image runs as, used when the pod sets no
	// runAsUser; nil assumes root, which most images are.
	ImageUID *uint32
	// SeccompDefault is kubelet's --seccomp-default: an unset profile
	// means RuntimeDefault instead of Unconfined.
	SeccompDefault bool
}

// Container kinds.
const (
	KindContainer = "container"
	KindInit      = "init container"
	KindEphemeral = "ephemeral container"
	KindSandbox   = "pod sandbox"
)

// Container is one container of a pod as the runtime would receive it.
type Container struct {
	Pod  *Pod
	Kind string
	Name string
	Spec *specs.Spec
	// Seccomp is what was requested; a spec alone cannot tell
	// RuntimeDefault or Localhost from any other filter.
	Seccomp      view.SeccompState
	LocalhostRef string
	// Assumed lists what the translation could not know for sure.
	Assumed []string
	// ArgsFromImage: the manifest gives no command, so Spec's args lack
	// the image's entrypoint.
	ArgsFromImage bool
	// KubeletRefuses is set when kubelet itself would not start the
	// container (runAsNonRoot with uid 0), whatever the node policy says.
	KubeletRefuses string
}

// View is the container as nri-guard's controls see it.
func (c *Container) View() *view.Container {
	v := view.FromSpec(c.Name, c.Spec, view.SpecSource{})
	v.Pod.Labels = c.Pod.Meta.Labels
	v.Pod.RuntimeHandler = c.Pod.Spec.RuntimeClassName // a RuntimeClass of the same name, as K3s creates them
	v.ArgsFromImage = c.ArgsFromImage
	// Only what was asked for is known; a filter put in by a rewrite
	// stays what FromSpec says it is.
	if v.Seccomp.State != view.SeccompUnconfined && c.Seccomp != view.SeccompUnconfined {
		v.Seccomp.State, v.Seccomp.LocalhostRef = c.Seccomp, c.LocalhostRef
	}
	return v
}

// Translate builds the pod sandbox and every container (init, regular,
// ephemeral) of p. A Windows pod has none: it never reaches a Linux node.
func Translate(p *Pod, opt Options) []*Container {
	if p.Spec.OS != nil && p.Spec.OS.Name == "windows" {
		return nil
	}
	out := []*Container{sandbox(p)}
	groups := []struct {
		kind string
		list []container
	}{{KindInit, p.Spec.InitContainers}, {KindContainer, p.Spec.Containers}, {KindEphemeral, p.Spec.EphemeralContainers}}
	for _, g := range groups {
		for i := range g.list {
			out = append(out, build(p, &g.list[i], g.kind, opt))
		}
	}
	return out
}
