package nriview

import "github.com/nri-guard/nri-guard/internal/view"

// localhostFilter fills in the filter of a Localhost profile the runtime
// named but did not show (containerd 2.2 reports only the ref), by
// reading the file as the runtime did, so the profile can be judged. The
// runtime read it first: the wrapper, which sees the filter in
// config.json, judges what was really installed.
func (src Source) localhostFilter(s view.Seccomp) view.Seccomp {
	if s.State != view.SeccompLocalhost || s.Profile != nil {
		return s
	}
	if src.LocalhostProfile == nil {
		s.ProfileError = "the runtime does not show the filter"
		return s
	}
	p, err := src.LocalhostProfile(s.LocalhostRef)
	if err != nil {
		s.ProfileError = err.Error()
		return s
	}
	s.Profile = p
	if view.IsPermissive(p) {
		s.State = view.SeccompUnconfined
	}
	return s
}
