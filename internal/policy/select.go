package policy

import "strings"

// Workload identifies a container for exception matching.
type Workload struct {
	Namespace string
	Pod       string
	Container string
	Image     string
	Labels    map[string]string
}

// For returns the settings that apply to w and the exception they come
// from (nil when no exception matches). The most specific matching
// exception wins; among equally specific ones, the one merged last.
func (p *Policy) For(w Workload) (*Controls, *CompiledException) {
	var best *CompiledException
	for _, e := range p.Exceptions {
		if !e.Match.Matches(w) {
			continue
		}
		if best == nil || e.Specificity >= best.Specificity {
			best = e
		}
	}
	if best == nil {
		return &p.Controls, nil
	}
	return &best.Effective, best
}

// Matching lists every exception that selects w, for explanations.
func (p *Policy) Matching(w Workload) []*CompiledException {
	var out []*CompiledException
	for _, e := range p.Exceptions {
		if e.Match.Matches(w) {
			out = append(out, e)
		}
	}
	return out
}

// Matches reports whether every given selector matches w.
func (m *Match) Matches(w Workload) bool {
	if !anyGlob(m.Namespaces, w.Namespace) || !anyGlob(m.Pods, w.Pod) ||
		!anyGlob(m.Containers, w.Container) || !anyGlob(m.Images, w.Image) {
		return false
	}
	for key, want := range m.Labels {
		have, ok := w.Labels[key]
		if !ok || !want.Match(have) {
			return false
		}
	}
	return true
}

// anyGlob is true for an empty selector (it does not constrain) and
// otherwise when one pattern matches. An unknown value ("") matches no
// pattern, so an image selector never matches a container whose image the
// runtime did not report.
func anyGlob(globs []Glob, s string) bool {
	if len(globs) == 0 {
		return true
	}
	if s == "" {
		return false
	}
	for _, g := range globs {
		if g.Match(s) {
			return true
		}
	}
	return false
}

// specificity counts the selectors an exception uses: an exception for
// one container of one pod beats one for a whole namespace.
func (m *Match) specificity() int {
	n := len(m.Labels)
	for _, l := range [][]Glob{m.Namespaces, m.Pods, m.Containers, m.Images} {
		if len(l) > 0 {
			n++
		}
	}
	return n
}

func yamlFieldName(tag string) string {
	name, _, _ := strings.Cut(tag, ",")
	return name
}
