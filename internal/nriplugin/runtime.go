package nriplugin

import (
	"fmt"
	"strings"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/view"
	"golang.org/x/mod/semver"
)

// Runtime is what the connected runtime can do for the guard.
type Runtime struct {
	Name       string
	Version    string
	NRIVersion string
	// Caps holds controls.Cap* values the runtime supports.
	Caps map[string]bool
	// SysctlsKnown: the runtime reports a container's sysctls.
	SysctlsKnown bool
	// SeccompErrnoRet: the runtime survives seccomp rules with their own
	// errnoRet (NRI v0.11.0, in containerd 2.2.x, crashes on them).
	SeccompErrnoRet bool
	// ImageReported: the runtime fills NRI's Container.image from its own
	// image store (containerd 2.4). Before that the image name is the CRI
	// client's user_specified_image, read from containerd's annotation.
	ImageReported bool
}

// detectRuntime works out the runtime's NRI level. containerd 2.0/2.1
// speak NRI v0.8: no validation phase (subscribing to it fails
// registration) and seccomp adjustments are dropped without an error.
func detectRuntime(name, version, nriVersion string) Runtime {
	rt := Runtime{Name: name, Version: version, NRIVersion: nriVersion, Caps: map[string]bool{}}
	version = releaseOf(version)
	if !semver.IsValid(nriVersion) {
		if inferred, err := api.InferVersionFromRuntime(name, version); err == nil {
			rt.NRIVersion = inferred
		}
	}
	// containerd 2.3+ may still report a pinned older NRI module; its own
	// version is the better witness for what it fills in.
	level := rt.NRIVersion
	if name == "containerd" && semver.IsValid(version) {
		level = maxVersion(level, containerdNRILevel(version))
	}
	if atLeast(level, "v0.10.0") {
		rt.Caps[controls.CapValidation] = true
		rt.Caps[controls.CapSeccompAdjustment] = true
	}
	rt.SysctlsKnown = atLeast(level, "v0.12.0")
	rt.SeccompErrnoRet = atLeast(level, "v0.12.0")
	rt.ImageReported = name == "containerd" && atLeast(version, "v2.4.0")
	return rt
}

// containerdNRILevel maps containerd releases to the NRI level they serve
// (from containerd's go.mod of each release line).
func containerdNRILevel(v string) string {
	switch {
	case atLeast(v, "v2.4.0"):
		return "v0.12.3"
	case atLeast(v, "v2.3.0"):
		return "v0.12.0"
	case atLeast(v, "v2.2.0"):
		return "v0.10.0"
	}
	return "v0.8.0"
}

// releaseOf reduces a runtime's version string to vMAJOR.MINOR.PATCH:
// builds from source say "2.2.9+unknown", K3s says "v2.2.9-k3s1", and a
// pre-release suffix must not make v2.2.0-k3s1 count as older than 2.2.0.
func releaseOf(v string) string {
	v = "v" + strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	return v
}

func atLeast(v, min string) bool {
	return semver.IsValid(v) && semver.Compare(v, min) >= 0
}

func maxVersion(a, b string) string {
	if !semver.IsValid(a) || semver.Compare(b, a) > 0 {
		return b
	}
	return a
}

// Caller is the NRI plugin on this runtime as the engine's caller. self
// is the plugin's NRI name.
func (rt Runtime) Caller(self string) controls.Caller {
	return controls.Caller{
		Name: fmt.Sprintf("%s %s (NRI %s)", rt.Name, rt.Version, rt.NRIVersion),
		Caps: rt.Caps, Self: self, SeccompErrnoRet: rt.SeccompErrnoRet, NodeDevice: view.NodeDevice,
	}
}

// Summary is the start-up line that tells an operator what this node gets.
func (rt Runtime) Summary(unavailable map[string]string) string {
	var active, wrapper, off []string
	for _, c := range controls.All {
		m := c.Meta()
		why, unavailable := unavailable[m.ID]
		switch {
		case !unavailable:
			active = append(active, m.ID)
		case m.Needs == controls.CapFullSpec:
			wrapper = append(wrapper, m.ID)
		default:
			off = append(off, m.ID+" ("+why+")")
		}
	}
	s := fmt.Sprintf("runtime %s %s, NRI %s: active controls: %s", rt.Name, rt.Version, rt.NRIVersion, strings.Join(active, ", "))
	if len(off) > 0 {
		s += "; UNAVAILABLE on this runtime: " + strings.Join(off, "; ")
	}
	if len(wrapper) > 0 {
		s += "; left to the runtime wrapper (NRI cannot see them): " + strings.Join(wrapper, ", ")
	}
	return s
}

// ImageWarning says which exceptions match by an image name that, on this
// runtime, is the CRI client's word; "" when the runtime reports the
// image itself or no exception matches by image.
func (rt Runtime) ImageWarning(byImage []string) string {
	if rt.ImageReported || len(byImage) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s does not report a container's image to NRI: exceptions %s match by the image name the CRI client sent "+
		"(kubelet sends the pod's image; a client of containerd's socket can send any name for any image); containerd 2.4 reports the image itself",
		rt.Name, rt.Version, strings.Join(byImage, ", "))
}
