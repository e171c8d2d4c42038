package nriplugin

import (
	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
)

// adjustment builds the NRI adjustment that makes the runtime perform the
// engine's rewrites (the NRI counterpart of apply.ToSpec).
// It returns nil when there is nothing to change. Rewrites NRI cannot
// express (capabilities, root.readonly, no_new_privs) never reach it:
// their controls are unavailable to the NRI plugin.
func adjustment(rewrites []view.Rewrite) *api.ContainerAdjustment {
	if len(rewrites) == 0 {
		return nil
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
		}
	}
	return adj
}
