// Package nriview builds the container view from NRI requests. It is
// apart from package view so that callers that never speak NRI (the
// runtime wrapper, which runc starts for every call) do not link NRI's
// protobuf and ttrpc code.
package nriview

import (
	"maps"
	"slices"

	"github.com/nri-guard/nri-guard/internal/view"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Source says what the runtime on the other side of NRI reports.
type Source struct {
	// IsHostNamespace tells whether a namespace path is one of the node's
	// own namespaces. Nil means only /proc/1/ns/* counts.
	IsHostNamespace func(nsType, path string) bool
	// SysctlsKnown: the runtime fills Container.linux.sysctl (containerd
	// 2.3 and later), so an empty map means "none".
	SysctlsKnown bool
	// ResolveSubPath traces kubelet's subPath binds to the host path they
	// show (subpath.HostPath); nil marks them unresolved.
	ResolveSubPath func(string) (string, error)
	// LocalhostProfile reads the filter of a Localhost profile by its
	// ref, for runtimes that show only the ref (profiles.LoadLocalhost);
	// nil leaves such a filter unknown.
	LocalhostProfile func(ref string) (*specs.LinuxSeccomp, error)
}

// FromNRI builds the view of a container from a CreateContainer request.
func FromNRI(pod *api.PodSandbox, ctr *api.Container, src Source) *view.Container {
	c := &view.Container{
		ID:           ctr.GetId(),
		Name:         ctr.GetName(),
		Pod:          podFromNRI(pod),
		Image:        imageFromNRI(ctr),
		Annotations:  ctr.GetAnnotations(),
		SysctlsKnown: src.SysctlsKnown,
		Args:         slices.Clone(ctr.GetArgs()),
	}
	lnx := ctr.GetLinux()
	for _, ns := range lnx.GetNamespaces() {
		c.Namespaces = append(c.Namespaces, src.namespace(ns, ""))
	}
	for _, m := range ctr.GetMounts() {
		c.Mounts = append(c.Mounts, src.mount(m, ""))
	}
	for _, d := range lnx.GetDevices() {
		c.Devices = append(c.Devices, deviceFromNRI(d, ""))
	}
	c.Seccomp = src.localhostFilter(seccompFromNRI(lnx.GetSeccompProfile(), lnx.GetSeccompPolicy()))
	c.Sysctls = maps.Clone(lnx.GetSysctl())
	c.Hooks = hooksFromNRI(ctr.GetHooks(), "")
	return c
}

func podFromNRI(pod *api.PodSandbox) view.Pod {
	return view.Pod{
		ID:        pod.GetId(),
		UID:       pod.GetUid(),
		Name:      pod.GetName(),
		Namespace: pod.GetNamespace(),
		Labels:    pod.GetLabels(),
		// The handler decides which binary runs the pod: only the runtime
		// wrapper's handlers get the full-spec controls.
		RuntimeHandler: runtimeHandlerOf(pod),
	}
}

func imageFromNRI(ctr *api.Container) string {
	if name := ctr.GetImage().GetName(); name != "" {
		return name
	}
	// containerd's CRI plugin writes this annotation itself: the fallback
	// for runtimes before containerd 2.4, which do not fill Container.image.
	return ctr.GetAnnotations()[view.AnnotationImageName]
}

func (src Source) namespace(ns *api.LinuxNamespace, addedBy string) view.Namespace {
	return view.Namespace{
		Type:    ns.GetType(),
		Path:    ns.GetPath(),
		Host:    view.IsHostNamespace(src.IsHostNamespace, ns.GetType(), ns.GetPath()),
		AddedBy: addedBy,
	}
}

func (src Source) mount(m *api.Mount, addedBy string) view.Mount {
	vm := view.Mount{
		Source:      m.GetSource(),
		Destination: m.GetDestination(),
		Type:        m.GetType(),
		Options:     m.GetOptions(),
		AddedBy:     addedBy,
	}
	view.ResolveSubPath(&vm, src.ResolveSubPath)
	return vm
}

func deviceFromNRI(d *api.LinuxDevice, addedBy string) view.Device {
	return view.Device{Path: d.GetPath(), Type: d.GetType(), Major: d.GetMajor(), Minor: d.GetMinor(), AddedBy: addedBy}
}

// seccompFromNRI reads the profile the client asked for and the filter the
// runtime put in the spec. containerd 2.3+ reports the filter itself;
// 2.2 only the request, so "RuntimeDefault asked, no filter shown" still
// counts as confined there.
func seccompFromNRI(profile *api.SecurityProfile, policy *api.LinuxSeccomp) view.Seccomp {
	s := view.Seccomp{Profile: seccompToOCI(policy)}
	switch {
	case profile != nil && profile.GetProfileType() == api.SecurityProfile_LOCALHOST:
		s.State, s.LocalhostRef = view.SeccompLocalhost, profile.GetLocalhostRef()
	case profile != nil && profile.GetProfileType() == api.SecurityProfile_RUNTIME_DEFAULT:
		s.State = view.SeccompRuntimeDefault
	case policy != nil:
		s.State = view.SeccompCustom
	default:
		s.State = view.SeccompUnconfined
	}
	if policy != nil && view.IsPermissive(s.Profile) {
		s.State = view.SeccompUnconfined
	}
	return s
}

func seccompToOCI(p *api.LinuxSeccomp) *specs.LinuxSeccomp {
	if p == nil {
		return nil
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:    specs.LinuxSeccompAction(p.DefaultAction),
		DefaultErrnoRet:  errnoToOCI(p.DefaultErrno.Get()),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
		Syscalls:         api.ToOCILinuxSyscalls(p.Syscalls),
	}
	for _, a := range p.Architectures {
		out.Architectures = append(out.Architectures, specs.Arch(a))
	}
	for _, f := range p.Flags {
		out.Flags = append(out.Flags, specs.LinuxSeccompFlag(f))
	}
	return out
}

func errnoToOCI(e *uint32) *uint {
	if e == nil {
		return nil
	}
	v := uint(*e)
	return &v
}

func hooksFromNRI(h *api.Hooks, addedBy string) []view.Hook {
	var out []view.Hook
	stages := []struct {
		name  string
		hooks []*api.Hook
	}{
		{"prestart", h.GetPrestart()}, {"createRuntime", h.GetCreateRuntime()},
		{"createContainer", h.GetCreateContainer()}, {"startContainer", h.GetStartContainer()},
		{"poststart", h.GetPoststart()}, {"poststop", h.GetPoststop()},
	}
	for _, st := range stages {
		for _, hk := range st.hooks {
			out = append(out, view.Hook{Stage: st.name, Path: hk.GetPath(), AddedBy: addedBy})
		}
	}
	return out
}

// ApplyNRIAdjustment returns the container as it will be once adj, the
// combined adjustment of all plugins, is applied; every changed item is
// marked with the plugin that owns it. This is what the validation phase
// judges: the final result, whoever produced it.
func ApplyNRIAdjustment(c *view.Container, adj *api.ContainerAdjustment, owners *api.OwningPlugins, src Source) *view.Container {
	out := clone(c)
	if adj == nil {
		return out
	}
	if owners == nil {
		owners = &api.OwningPlugins{}
	}
	id := c.ID
	for _, m := range adj.GetMounts() {
		if dest, removed := m.IsMarkedForRemoval(); removed {
			out.Mounts = deleteWhere(out.Mounts, func(x view.Mount) bool { return x.Destination == dest })
			continue
		}
		owner, _ := owners.MountOwner(id, m.Destination)
		out.Mounts = replaceOrAppend(out.Mounts, src.mount(m, owner), func(x view.Mount) bool { return x.Destination == m.Destination })
	}
	lnx := adj.GetLinux()
	for _, d := range lnx.GetDevices() {
		if path, removed := d.IsMarkedForRemoval(); removed {
			out.Devices = deleteWhere(out.Devices, func(x view.Device) bool { return x.Path == path })
			continue
		}
		owner, _ := owners.DeviceOwner(id, d.Path)
		out.Devices = replaceOrAppend(out.Devices, deviceFromNRI(d, owner), func(x view.Device) bool { return x.Path == d.Path })
	}
	for _, ns := range lnx.GetNamespaces() {
		if typ, removed := api.IsMarkedForRemoval(ns.Type); removed {
			out.Namespaces = deleteWhere(out.Namespaces, func(x view.Namespace) bool { return x.Type == typ })
			continue
		}
		owner, _ := owners.NamespaceOwner(id, ns.Type)
		out.Namespaces = replaceOrAppend(out.Namespaces, src.namespace(ns, owner), func(x view.Namespace) bool { return x.Type == ns.Type })
	}
	if p := lnx.GetSeccompPolicy(); p != nil {
		owner, _ := owners.SeccompPolicyOwner(id)
		out.Seccomp = view.Seccomp{State: view.SeccompCustom, Profile: seccompToOCI(p), AddedBy: owner}
		if view.IsPermissive(out.Seccomp.Profile) {
			out.Seccomp.State = view.SeccompUnconfined
		}
	}
	for key, value := range lnx.GetSysctl() {
		if name, removed := api.IsMarkedForRemoval(key); removed {
			delete(out.Sysctls, name)
			continue
		}
		if out.Sysctls == nil {
			out.Sysctls = map[string]string{}
		}
		out.Sysctls[key] = value
	}
	if h := adj.GetHooks().Hooks(); h != nil {
		owner, _ := owners.HooksOwner(id)
		out.Hooks = append(out.Hooks, hooksFromNRI(h, owner)...)
	}
	out.Adjustments = append(out.Adjustments, src.adjustments(adj, ownersOf(owners, id))...)
	return out
}

func clone(c *view.Container) *view.Container {
	out := *c
	out.Namespaces = append([]view.Namespace(nil), c.Namespaces...)
	out.Mounts = append([]view.Mount(nil), c.Mounts...)
	out.Devices = append([]view.Device(nil), c.Devices...)
	out.Hooks = append([]view.Hook(nil), c.Hooks...)
	out.Adjustments = append([]view.Adjustment(nil), c.Adjustments...)
	out.Sysctls = maps.Clone(c.Sysctls)
	return &out
}

// deleteWhere returns items without the matching ones, in a new slice:
// views share backing arrays with the view they were cloned from.
func deleteWhere[T any](items []T, match func(T) bool) []T {
	return slices.DeleteFunc(slices.Clone(items), match)
}

func replaceOrAppend[T any](items []T, item T, same func(T) bool) []T {
	for i := range items {
		if same(items[i]) {
			items[i] = item
			return items
		}
	}
	return append(items, item)
}
