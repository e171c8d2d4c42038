package nriplugin

import (
	"fmt"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
)

// adjustment builds the NRI adjustment that makes the runtime perform the
// engine's rewrites: the one place the plugin turns rewrites into NRI's
// terms (apply.Spec is the spec's). It returns nil when there is nothing
// to change, and an error for a rewrite NRI cannot express (capabilities,
// root.readonly, no_new_privs, masked paths, the user namespace): their
// controls are unavailable to the plugin, so one reaching here is a bug,
// and the container is refused rather than let through unchanged.
func adjustment(rewrites []view.Rewrite) (*api.ContainerAdjustment, error) {
	if len(rewrites) == 0 {
		return nil, nil
	}
	adj := &api.ContainerAdjustment{}
	for _, r := range rewrites {
		switch r.Kind {
		case view.DropMount:
			adj.RemoveMount(r.Mount.Destination)
		case view.ReadOnlyMount:
			// NRI changes a mount by removing it and adding it back.
			adj.RemoveMount(r.Mount.Destination)
			adj.AddMount(&api.Mount{
				Source:      r.Mount.Source,
				Destination: r.Mount.Destination,
				Type:        r.Mount.Type,
				Options:     view.WithReadOnly(r.Mount.Options),
			})
		case view.RemoveDevice:
			adj.RemoveDevice(r.Device.Path)
		case view.SetSeccomp:
			adj.SetLinuxSeccompPolicy(api.FromOCILinuxSeccomp(r.Seccomp))
		default:
			return nil, fmt.Errorf("nri-guard: refused: the rewrite %s cannot be made through NRI (an internal error: its control should be the runtime wrapper's)", r.Kind)
		}
	}
	return adj, nil
}
