package nriplugin

// RuntimeSummary names the runtime the plugin registered with and its NRI
// level, e.g. "containerd v2.2.9 (NRI v0.11.0)"; "" before registration.
func (p *Plugin) RuntimeSummary() string {
	st := p.state.Load()
	if st == nil {
		return ""
	}
	return st.runtime.Name + " " + st.runtime.Version + " (NRI " + st.runtime.NRIVersion + ")"
}
