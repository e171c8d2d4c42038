package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Reference is an image reference split the way containerd and the
// distribution project name images: registry (host and optional port),
// repository path, tag and digest. Docker Hub's short forms are expanded
// ("busybox" is docker.io/library/busybox:latest), so two spellings of
// one image compare equal.
type Reference struct {
	Registry   string // lower case host[:port]; docker.io for Docker Hub
	Repository string // path components joined by "/"
	Tag        string // "latest" when neither tag nor digest is given
	Digest     string // algorithm:encoded, or ""
}

// DockerHub is the registry a reference without one names.
const DockerHub = "docker.io"

// maxNameLength is the distribution project's limit for registry plus
// repository.
const maxNameLength = 255

// String writes the reference in its full form.
func (r Reference) String() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// ParseReference splits an image reference. It refuses what containerd
// would not pull: upper case in the repository, empty components, a tag
// with a path in it, a malformed digest.
func ParseReference(s string) (Reference, error) {
	var r Reference
	if isImageID(s) {
		return r, errors.New("an image ID, not a reference: it names no repository")
	}
	name, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if err := checkDigest(digest); err != nil {
			return r, err
		}
		r.Digest = digest
	}
	name, tag, hasTag := cutTag(name)
	if hasTag {
		if err := checkTag(tag); err != nil {
			return r, err
		}
		r.Tag = tag
	} else if !hasDigest {
		r.Tag = "latest"
	}
	registry, repo := splitRegistry(name)
	switch {
	case registry == "":
		registry = DockerHub
	case !strings.ContainsAny(registry, ".:") && registry != "localhost":
		// distribution takes it for a host; lower-cased it would read as
		// a repository, so it has no full form: refuse it.
		return r, fmt.Errorf("%q has upper case but no '.' or ':': neither a registry host nor a repository", registry)
	}
	if err := checkRegistry(registry); err != nil {
		return r, err
	}
	r.Registry = normalRegistry(registry)
	if err := checkRepository(repo); err != nil {
		return r, err
	}
	if r.Registry == DockerHub && !strings.Contains(repo, "/") {
		repo = "library/" + repo
	}
	r.Repository = repo
	if len(r.Registry)+1+len(repo) > maxNameLength {
		return Reference{}, fmt.Errorf("the name %s/%s is longer than %d characters", r.Registry, repo, maxNameLength)
	}
	return r, nil
}

// isImageID: 64 hex digits, alone or after "sha256:" (distribution
// refuses the first as a name; the second would read as repository
// "sha256" with a tag).
func isImageID(s string) bool {
	s = strings.TrimPrefix(s, "sha256:")
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

// cutTag splits "name:tag"; a ":" before the last "/" is a registry's
// port, not a tag.
func cutTag(name string) (string, string, bool) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 || i < strings.LastIndexByte(name, '/') {
		return name, "", false
	}
	return name[:i], name[i+1:], true
}

// splitRegistry returns the registry ("" when the name has none) and the
// repository. As in the distribution project, the first component is a
// registry when it has a "." or a ":" or is "localhost" (or, being upper
// case, could not be a repository).
func splitRegistry(name string) (string, string) {
	first, rest, ok := strings.Cut(name, "/")
	if !ok || !(strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		return "", name
	}
	return first, rest
}

// normalRegistry lower-cases the host and folds Docker Hub's aliases.
func normalRegistry(r string) string {
	r = strings.ToLower(r)
	if r == "index.docker.io" || r == "registry-1.docker.io" {
		return DockerHub
	}
	return r
}

func checkRegistry(r string) error {
	host, port, hasPort := cutPort(r)
	if hasPort && (port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5) {
		return fmt.Errorf("registry %q: the port must be a number", r)
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		if strings.Trim(host[1:len(host)-1], "0123456789abcdefABCDEF:.") != "" || len(host) < 4 {
			return fmt.Errorf("registry %q: not an IPv6 address", r)
		}
		return nil
	}
	for rest := host; ; {
		label, tail, more := strings.Cut(rest, ".")
		if !isHostLabel(label) {
			return fmt.Errorf("registry %q: %q is not a host name part (letters, digits and inner dashes)", r, label)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// cutPort splits host:port; an IPv6 host is in brackets.
func cutPort(r string) (string, string, bool) {
	i := strings.LastIndexByte(r, ':')
	if i < 0 || i < strings.LastIndexByte(r, ']') {
		return r, "", false
	}
	return r[:i], r[i+1:], true
}

func isHostLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func checkRepository(repo string) error {
	if repo == "" {
		return errors.New("no repository")
	}
	for rest := repo; ; {
		comp, tail, more := strings.Cut(rest, "/")
		if !isPathComponent(comp) {
			return fmt.Errorf("repository %q: %q is not a path component (lower case letters and digits, joined by '.', '_', '__' or dashes)", repo, comp)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// isPathComponent: [a-z0-9]+ separated by ".", "_", "__" or runs of "-".
func isPathComponent(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if isLowerAlnum(s[i]) {
			continue
		}
		j := i
		for j < len(s) && !isLowerAlnum(s[j]) {
			j++
		}
		sep := s[i:j]
		if sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j - 1
	}
	return true
}

func checkTag(tag string) error {
	if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' {
		return fmt.Errorf("tag %q: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", tag)
	}
	for _, c := range []byte(tag) {
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("tag %q: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", tag)
		}
	}
	return nil
}

// digestLengths are the encoded lengths of the registered algorithms.
var digestLengths = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

func checkDigest(d string) error {
	algo, enc, ok := strings.Cut(d, ":")
	if !ok || algo == "" || enc == "" {
		return fmt.Errorf("digest %q: want algorithm:hex, e.g. sha256:<64 hex digits>", d)
	}
	n, known := digestLengths[algo]
	if !known {
		return fmt.Errorf("digest %q: unknown algorithm %q (sha256, sha384, sha512)", d, algo)
	}
	if len(enc) != n || strings.Trim(enc, "0123456789abcdef") != "" {
		return fmt.Errorf("digest %q: %s wants %d lower case hex digits", d, algo, n)
	}
	return nil
}

func isAlnum(c byte) bool { return isLowerAlnum(c) || ('A' <= c && c <= 'Z') }

func isLowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }

// ImagePattern selects images by reference, part by part: registry,
// repository, tag and digest are matched on their own, and a `*` or `?`
// never spans a "/", a ":" or an "@", so "rancher/klipper-lb:*" cannot
// match "evil.example/x/rancher/klipper-lb:1".
//
//   - The registry is the first component when it has a "." or a ":" or
//     is "localhost" (as in a reference), or is exactly "*" (any
//     registry). A pattern without one matches only the node's system
//     registries (images.systemRegistries, default [docker.io]): K3s's
//     --system-default-registry puts its images there.
//   - A pattern without a tag matches every tag, one without a digest
//     every digest; "@sha256:..." wants the runtime to report that
//     digest.
//   - One repository component under Docker Hub is an official image:
//     "busybox" is "library/busybox".
//   - The pattern "*" alone matches every image.
type ImagePattern string

func (ImagePattern) check(s string) error {
	_, err := compileImagePattern(s)
	return err
}

// Match reports whether the image reference ref matches, with
// systemRegistries standing in for an unnamed registry. A reference that
// does not parse matches nothing.
func (p ImagePattern) Match(ref string, systemRegistries []string) bool {
	r, err := ParseReference(ref)
	return err == nil && p.MatchReference(r, systemRegistries)
}

// MatchReference is Match for a reference already parsed.
func (p ImagePattern) MatchReference(r Reference, systemRegistries []string) bool {
	c, err := compileImagePattern(string(p))
	return err == nil && c.match(r, systemRegistries)
}

// imagePattern is an ImagePattern split into its parts.
type imagePattern struct {
	all      bool   // the pattern "*"
	registry string // "" for the system registries, "*" for any
	anyName  bool   // the name is "*": every registry and repository
	repo     string // path components, each a glob of its own
	tag      string // "" for any
	digest   string // "" for any
}

func compileImagePattern(s string) (imagePattern, error) {
	var p imagePattern
	if s == "*" {
		p.all = true
		return p, nil
	}
	if s == "" {
		return p, errors.New("empty image pattern")
	}
	name, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if err := checkDigestPattern(digest); err != nil {
			return p, err
		}
		p.digest = digest
	}
	name, tag, hasTag := cutTag(name)
	if hasTag {
		if err := checkTagPattern(tag); err != nil {
			return p, err
		}
		p.tag = tag
	}
	// Unlike a reference's, a pattern's first component is not a
	// registry for being upper case: that is a typo that never matches.
	if name == "*" {
		// "*:latest", "*@sha256:...": the tag or digest in any image
		p.anyName = true
		return p, nil
	}
	registry, repo := "", name
	if first, rest, ok := strings.Cut(name, "/"); ok && (first == "*" || strings.ContainsAny(first, ".:") || first == "localhost") {
		registry, repo = first, rest
	}
	if registry != "" && registry != "*" {
		if err := checkRegistryPattern(registry); err != nil {
			return p, err
		}
		registry = normalRegistry(registry)
	}
	p.registry = registry
	if repo == "" {
		return p, fmt.Errorf("image pattern %q names no repository", s)
	}
	p.repo = repo
	for rest := repo; ; {
		comp, tail, more := strings.Cut(rest, "/")
		if err := checkComponentPattern(comp); err != nil {
			return p, fmt.Errorf("image pattern %q: %w", s, err)
		}
		if !more {
			break
		}
		rest = tail
	}
	return p, nil
}

// compileImagePatterns compiles a selector's patterns. One that does
// not compile becomes a pattern that matches nothing (never the pattern
// "*"): the loader refuses such patterns before this runs.
func compileImagePatterns(list []ImagePattern) []imagePattern {
	out := make([]imagePattern, len(list))
	for i, s := range list {
		c, err := compileImagePattern(string(s))
		if err != nil {
			c = imagePattern{registry: "\x00"}
		}
		out[i] = c
	}
	return out
}

func (p imagePattern) match(r Reference, systemRegistries []string) bool {
	if p.all {
		return true
	}
	if !p.anyName && !p.matchName(r, systemRegistries) {
		return false
	}
	if p.tag != "" && (r.Tag == "" || !globMatch(p.tag, r.Tag)) {
		return false
	}
	// containerd pulls "repo:tag@digest" by the digest alone: the tag then
	// says nothing of what runs, so only a pattern that pins the digest
	// too, or accepts any tag, may match it by its tag.
	if p.tag != "" && p.tag != "*" && r.Digest != "" && p.digest == "" {
		return false
	}
	return p.digest == "" || (r.Digest != "" && matchParts(p.digest, r.Digest, ":"))
}

func (p imagePattern) matchName(r Reference, systemRegistries []string) bool {
	if !p.matchRegistry(r.Registry, systemRegistries) {
		return false
	}
	repo := r.Repository
	if r.Registry == DockerHub && !strings.Contains(p.repo, "/") {
		// an official image: "busybox" is library/busybox
		var ok bool
		if repo, ok = strings.CutPrefix(repo, "library/"); !ok {
			return false
		}
	}
	return matchParts(p.repo, repo, "/")
}

func (p imagePattern) matchRegistry(have string, systemRegistries []string) bool {
	switch p.registry {
	case "*":
		return true
	case "":
		return slices.ContainsFunc(systemRegistries, func(s string) bool { return normalRegistry(s) == have })
	}
	return matchParts(p.registry, have, ":")
}

// matchParts matches a glob part by part, so no wildcard spans sep; the
// two must have as many parts.
func matchParts(pattern, s, sep string) bool {
	for {
		pp, prest, pmore := strings.Cut(pattern, sep)
		sp, srest, smore := strings.Cut(s, sep)
		if pmore != smore || !globMatch(pp, sp) {
			return false
		}
		if !pmore {
			return true
		}
		pattern, s = prest, srest
	}
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

func checkDigestPattern(d string) error {
	if !hasWildcard(d) {
		return checkDigest(d)
	}
	algo, enc, ok := strings.Cut(d, ":")
	if !ok || algo == "" || enc == "" || strings.Trim(d, "0123456789abcdefghijklmnopqrstuvwxyz:*?") != "" {
		return fmt.Errorf("digest pattern %q: want algorithm:hex, with * or ? for any part", d)
	}
	return nil
}

func checkTagPattern(tag string) error {
	if !hasWildcard(tag) {
		return checkTag(tag)
	}
	for _, c := range []byte(tag) {
		if !isAlnum(c) && !strings.ContainsRune("_.-*?", rune(c)) {
			return fmt.Errorf("tag pattern %q: a tag has only letters, digits, '_', '.' and '-' (so this never matches)", tag)
		}
	}
	return nil
}

func checkRegistryPattern(r string) error {
	if !hasWildcard(r) {
		return checkRegistry(r)
	}
	for _, c := range []byte(r) {
		if !isAlnum(c) && !strings.ContainsRune(".-:[]*?", rune(c)) {
			return fmt.Errorf("registry pattern %q: a registry has only letters, digits, '.', '-' and a :port", r)
		}
	}
	return nil
}

func checkComponentPattern(comp string) error {
	if comp == "" {
		return errors.New("empty path component (\"//\" or a trailing \"/\")")
	}
	if !hasWildcard(comp) {
		if !isPathComponent(comp) {
			return fmt.Errorf("%q is not a repository path component (lower case letters and digits, joined by '.', '_', '__' or dashes), so it never matches", comp)
		}
		return nil
	}
	for _, c := range []byte(comp) {
		if !isLowerAlnum(c) && !strings.ContainsRune("._-*?", rune(c)) {
			return fmt.Errorf("%q: a repository path component has only lower case letters, digits, '.', '_' and '-', so this never matches", comp)
		}
	}
	return nil
}

// Registry is a registry host with an optional port, as references name
// it (registry.example.com:5000).
type Registry string

func (Registry) check(s string) error { return checkRegistry(s) }

// Registries returns the names as plain strings.
func Registries(rs []Registry) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
