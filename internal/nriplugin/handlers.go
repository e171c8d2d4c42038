package nriplugin

import (
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
)

// isolatedNote is what the decision log says of a container whose
// runtime handler the policy trusts to isolate by other means: the
// runtime wrapper never runs for it, so the controls that need the whole
// spec were not applied. Said at every creation, not only at start-up.
func isolatedNote(eng *engine.Engine, d *engine.Decision) string {
	settings := &eng.Policy().Controls
	if d.Exception != nil {
		settings = &d.Exception.Effective
	}
	return controls.IsolatedNote(d.Container, settings)
}
