package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Images allows and denies images by reference pattern, e.g.
// "docker.io/library/*" or "*/evil/*" (policy.ImagePattern: registry,
// repository, tag and digest matched part by part). Deny wins over allow.
// An image reference that does not parse is refused whenever a rule
// exists: nobody can say which rule it would meet.
type Images struct{}

func (Images) Meta() Meta {
	return Meta{
		ID: "images", Key: "images",
		Reads: "image name",
		Does:  "allow and deny patterns over the image reference, matched registry, repository, tag and digest part by part (below); an unknown image fails closed when rules exist",
	}
}

func (Images) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	im := &s.Images
	// A pod sandbox runs containerd's configured pause image, which no
	// client chooses; the spec does not even name it as an image.
	if c.Sandbox || (len(im.Allow.Value) == 0 && len(im.Deny.Value) == 0) {
		return nil
	}
	f := Finding{Control: "images", Field: "image", Value: c.Image, Verdict: Refuse}
	regs := policy.Registries(im.SystemRegistries.Value)
	ref, parseErr := policy.ParseReference(c.Image)
	switch {
	case c.Image == "":
		// Fail closed: a rule about images cannot be honoured blind.
		f.Value = "(not reported by the runtime)"
		f.Problem = "the image is unknown, so the image rules cannot be checked"
		f.Rule, f.Source = "images.allow", im.Allow.Source
		f.Fix = "use containerd 2.4 or later, or add an exception for this pod that sets images.mode: off"
	case parseErr != nil:
		f.Problem = "the image reference does not parse (" + parseErr.Error() + "), so the image rules cannot be checked"
		f.Rule, f.Source = "images.allow", im.Allow.Source
		if len(im.Deny.Value) > 0 {
			f.Rule, f.Source = "images.deny", im.Deny.Source
		}
		f.Fix = "name the image by a full reference (registry/repository:tag or @digest)"
	case anyImage(im.Deny.Value, ref, regs):
		f.Problem = "image is denied"
		f.Rule, f.Source = "images.deny", im.Deny.Source
		f.Fix = exceptionFix("images.deny without the matching pattern")
		f.Final = "the node's policy denies this image by name (images.deny): lift the deny itself if that is meant"
	case len(im.Allow.Value) > 0 && !anyImage(im.Allow.Value, ref, regs):
		f.Problem = "image is not in the allowlist"
		f.Rule, f.Source = "images.allow", im.Allow.Source
		f.Fix = exceptionFix("images.allow with a pattern matching " + c.Image)
		f.Grant = &policy.Grant{Key: "images.allow", Add: []string{c.Image}}
	default:
		return nil
	}
	return []Finding{f}
}

func anyImage(patterns []policy.ImagePattern, ref policy.Reference, regs []string) bool {
	for _, p := range patterns {
		if p.MatchReference(ref, regs) {
			return true
		}
	}
	return false
}
