package policy

import "strings"

// Workload identifies a container for exception matching.
type Workload struct {
	Namespace string
	Pod       string
	Container string
	Image     string
	Labels    map[string]string
	// Args is the process's command line (OCI process.args); nil when the
	// source does not show it, and then no args selector matches.
	Args []string
	// ArgsFromImage is set by the offline check of a manifest: Args holds
	// only what the manifest says (its args, no command), and the image's
	// entrypoint, which check cannot see, comes first.
	ArgsFromImage bool
}

// For returns the settings that apply to w and the exception they come
// from (nil when no exception matches). The most specific matching
// exception wins; among equally specific ones, the one merged last.
func (p *Policy) For(w Workload) (*Controls, *CompiledException) {
	var best *CompiledException
	ref := p.workloadRef(w)
	for _, e := range p.Exceptions {
		if !e.matches(w, ref) {
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
	ref := p.workloadRef(w)
	for _, e := range p.Exceptions {
		if e.matches(w, ref) {
			out = append(out, e)
		}
	}
	return out
}

// SystemRegistries are the registries an image pattern without one names.
func (p *Policy) SystemRegistries() []string { return p.systemRegistries }

// workloadRef parses the workload's image once for all exceptions; an
// image that does not parse (or is unknown) matches no image selector.
func (p *Policy) workloadRef(w Workload) imageRef {
	return newImageRef(w.Image, p.systemRegistries)
}

// imageRef is a workload's image, parsed once for every pattern.
type imageRef struct {
	ref        Reference
	ok         bool
	registries []string
}

func newImageRef(image string, registries []string) imageRef {
	r, err := ParseReference(image)
	if image == "" || err != nil {
		return imageRef{registries: registries}
	}
	return imageRef{ref: r, ok: true, registries: registries}
}

// Matches reports whether every given selector matches w, with the
// system registries given standing in for a pattern's unnamed registry.
func (m *Match) Matches(w Workload, systemRegistries []string) bool {
	return m.matches(w, newImageRef(w.Image, systemRegistries), compileImagePatterns(m.Images))
}

func (e *CompiledException) matches(w Workload, img imageRef) bool {
	return e.Match.matches(w, img, e.images)
}

func (m *Match) matches(w Workload, img imageRef, images []imagePattern) bool {
	if !anyGlob(m.Namespaces, w.Namespace) || !anyGlob(m.Pods, w.Pod) ||
		!anyGlob(m.Containers, w.Container) || !matchesImage(images, img) || !m.MatchesArgs(w.Args, w.ArgsFromImage) {
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

// matchesImage is true for no image selector, else when a pattern
// matches a known image. A pattern that did not compile was refused at
// load; compileImagePatterns leaves it out, so it matches nothing.
func matchesImage(images []imagePattern, img imageRef) bool {
	if len(images) == 0 {
		return true
	}
	if !img.ok {
		return false
	}
	for _, p := range images {
		if p.match(img.ref, img.registries) {
			return true
		}
	}
	return false
}

// MatchesArgs reports whether the command line matches one of the args
// selector's lists (true when there is no args selector). With
// fromImage, args are the manifest's alone: they must match the end of a
// list, whose first element stands for the image's entrypoint; no args at
// all then say nothing, and match.
func (m *Match) MatchesArgs(args []string, fromImage bool) bool {
	if len(m.Args) == 0 {
		return true
	}
	if args == nil && !fromImage {
		return false
	}
	for _, want := range m.Args {
		if argsMatch(want, args, fromImage) {
			return true
		}
	}
	return false
}

func argsMatch(want []Glob, args []string, fromImage bool) bool {
	if fromImage {
		if len(args) == 0 {
			return true
		}
		if len(args) >= len(want) {
			return false
		}
		want = want[len(want)-len(args):]
	}
	if len(want) != len(args) {
		return false
	}
	for i, g := range want {
		if !g.Match(args[i]) {
			return false
		}
	}
	return true
}

// anyGlob is true for an empty selector (it does not constrain) and
// otherwise when one pattern matches. An unknown value ("") matches no
// pattern, so a selector never matches a container whose value the
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
	for _, l := range []int{len(m.Namespaces), len(m.Pods), len(m.Containers), len(m.Images), len(m.Args)} {
		if l > 0 {
			n++
		}
	}
	return n
}

func yamlFieldName(tag string) string {
	name, _, _ := strings.Cut(tag, ",")
	return name
}
