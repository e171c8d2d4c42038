package kubepod

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// containerCaps follows containerd's CRI: privileged gets every
// capability; otherwise the runtime's default set, then add ALL, drop
// ALL, the named adds and the named drops, in that order. "ALL" is
// matched in any case; every other name is upper-cased and prefixed with
// CAP_ whatever it was, so "net_admin" is CAP_NET_ADMIN and "CAP_CHOWN"
// is CAP_CAP_CHOWN, an unknown capability (seen on containerd 2.4).
func containerCaps(sc *securityContext, priv bool) []string {
	if priv {
		return slices.Clone(policy.AllCapabilities)
	}
	caps := slices.Clone(controls.RuntimeDefaultCapabilities)
	if sc.Capabilities == nil {
		return caps
	}
	add, drop := sc.Capabilities.Add, sc.Capabilities.Drop
	if slices.ContainsFunc(add, isAll) {
		caps = slices.Clone(policy.AllCapabilities)
	}
	if slices.ContainsFunc(drop, isAll) {
		caps = nil
	}
	for _, a := range capNames(add) {
		if !slices.Contains(caps, a) {
			caps = append(caps, a)
		}
	}
	dropped := capNames(drop)
	return slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(dropped, c) })
}

func isAll(c string) bool { return strings.EqualFold(c, "ALL") }

// capNames spells names as containerd does, leaving out ALL.
func capNames(in []string) []string {
	out := make([]string, 0, len(in))
	for _, c := range in {
		if !isAll(c) {
			out = append(out, "CAP_"+strings.ToUpper(c))
		}
	}
	return out
}

// user is the process uid: runAsUser (container over pod), else the
// image's user, which a manifest does not show.
func (out *Container) user(psc *podSecurityContext, sc *securityContext, opt Options) uint32 {
	nonRoot := isTrue(firstSet(sc.RunAsNonRoot, psc.RunAsNonRoot))
	uid := firstSet(sc.RunAsUser, psc.RunAsUser)
	switch {
	case uid != nil:
		out.checkNonRoot(nonRoot, *uid)
		return uint32(*uid)
	case opt.ImageUID != nil:
		out.Assumed = append(out.Assumed, fmt.Sprintf("uid: runAsUser is not set; the image's user is %d (--image-uid)", *opt.ImageUID))
		out.checkNonRoot(nonRoot, int64(*opt.ImageUID))
		return *opt.ImageUID
	case nonRoot:
		out.Assumed = append(out.Assumed, "uid: runAsUser is not set; the image's user is assumed non-root (65534): kubelet does not start a runAsNonRoot container whose image runs as root")
		return 65534
	}
	out.Assumed = append(out.Assumed, "uid: runAsUser is not set; the image's user is assumed to be root (0) (pass --image-uid N if it is not)")
	return 0
}

func (out *Container) checkNonRoot(nonRoot bool, uid int64) {
	if nonRoot && uid == 0 {
		out.KubeletRefuses = "runAsNonRoot is true but the container would run as uid 0: kubelet does not start it"
	}
}

func firstSet[T any](vals ...*T) *T {
	for _, v := range vals {
		if v != nil {
			return v
		}
	}
	return nil
}

// seccompStandIn stands for containerd's default profile and for a
// Localhost profile: a filter that refuses by default. The controls only
// need to know that a filter is there and which kind was asked for.
func seccompStandIn() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}}}
}

// seccomp resolves the profile (container over pod) the way kubelet and
// containerd do. Privileged containers never get a filter.
func (out *Container) seccomp(pod, ctr *seccompProfile, priv bool, opt Options) *specs.LinuxSeccomp {
	out.Seccomp = view.SeccompUnconfined
	if priv {
		return nil
	}
	prof := firstSet(ctr, pod)
	switch {
	case prof == nil && opt.SeccompDefault:
		prof = &seccompProfile{Type: "RuntimeDefault"}
	case prof == nil:
		out.Assumed = append(out.Assumed, "seccomp: no seccompProfile; kubelet's default (Unconfined) assumed (with kubelet --seccomp-default it is RuntimeDefault: pass --seccomp-default)")
		return nil
	}
	switch prof.Type {
	case "RuntimeDefault":
		out.Seccomp = view.SeccompRuntimeDefault
	case "Localhost":
		out.Seccomp, out.LocalhostRef = view.SeccompLocalhost, prof.LocalhostProfile
		out.Assumed = append(out.Assumed, fmt.Sprintf("seccomp: Localhost profile %q is assumed present on the node and to confine", prof.LocalhostProfile))
	case "Unconfined":
		return nil
	default:
		out.Assumed = append(out.Assumed, fmt.Sprintf("seccomp: unknown profile type %q; the API server would reject it, read as Unconfined", prof.Type))
		return nil
	}
	return seccompStandIn()
}

// appArmor is the profile containerd sets: the container's field, the
// pod's, the deprecated annotation, else the runtime's default
// (unconfined when privileged). It only matters on nodes with AppArmor.
func appArmor(p *Pod, name string, psc *podSecurityContext, sc *securityContext, priv bool) string {
	if prof := firstSet(sc.AppArmorProfile, psc.AppArmorProfile); prof != nil {
		switch prof.Type {
		case "Unconfined":
			return "unconfined"
		case "Localhost":
			return prof.LocalhostProfile
		}
		return containerdAppArmor
	}
	switch ann := p.Meta.Annotations["container.apparmor.security.beta.kubernetes.io/"+name]; {
	case ann == "unconfined":
		return "unconfined"
	case strings.HasPrefix(ann, "localhost/"):
		return strings.TrimPrefix(ann, "localhost/")
	case ann == "" && priv:
		return "unconfined"
	}
	return containerdAppArmor
}

// containerdAppArmor is the name of containerd's default AppArmor profile.
const containerdAppArmor = "cri-containerd.apparmor.d"

// seLinux is the process label: the container's seLinuxOptions replace
// the pod's; unset parts take containerd's defaults. Privileged
// containers run as spc_t. It only matters on nodes with SELinux.
func seLinux(psc *podSecurityContext, sc *securityContext, priv bool) string {
	if priv {
		return "system_u:system_r:spc_t:s0"
	}
	o := firstSet(sc.SELinuxOptions, psc.SELinuxOptions)
	if o == nil {
		o = &seLinuxOptions{}
	}
	return strings.Join([]string{orDefault(o.User, "system_u"), orDefault(o.Role, "system_r"),
		orDefault(o.Type, "container_t"), orDefault(o.Level, "s0:c1,c2")}, ":")
}

// normalizeImage writes an image reference as containerd's image-name
// annotation does: docker.io/library/ for short names, :latest when
// neither tag nor digest is given.
func normalizeImage(ref string) string {
	if ref == "" {
		return ""
	}
	first, rest, found := strings.Cut(ref, "/")
	if !found {
		ref = "docker.io/library/" + ref
	} else if !strings.ContainsAny(first, ".:") && first != "localhost" {
		ref = "docker.io/" + first + "/" + rest
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		ref += ":latest"
	}
	return ref
}
