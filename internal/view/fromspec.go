package view

import (
	"maps"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CRI annotations containerd writes into every container's OCI spec.
const (
	AnnotationContainerName = "io.kubernetes.cri.container-name"
	AnnotationContainerType = "io.kubernetes.cri.container-type"
	AnnotationSandboxID     = "io.kubernetes.cri.sandbox-id"
	AnnotationSandboxName   = "io.kubernetes.cri.sandbox-name"
	AnnotationSandboxNS     = "io.kubernetes.cri.sandbox-namespace"
	AnnotationSandboxUID    = "io.kubernetes.cri.sandbox-uid"
	AnnotationImageName     = "io.kubernetes.cri.image-name"
)

// SpecSource says how to read an OCI spec.
type SpecSource struct {
	// IsHostNamespace compares namespace paths with the node's; nil
	// means only /proc/1/ns/* counts.
	IsHostNamespace func(nsType, path string) bool
	// ResolveSubPath traces kubelet's subPath binds to the host path they
	// show (subpath.HostPath); nil marks them unresolved.
	ResolveSubPath func(string) (string, error)
	// ReadIDMaps reads the id mappings of a user namespace joined by path
	// (ProcIDMaps); nil: the spec's own mappings are taken.
	ReadIDMaps func(nsPath string) (uid, gid []specs.LinuxIDMapping, err error)
}

// FromSpec builds the view of a container from its OCI runtime spec. Pod
// identity comes from containerd's CRI annotations; labels are not in a
// spec, so callers that know them add them to Pod.Labels.
func FromSpec(id string, spec *specs.Spec, src SpecSource) *Container {
	a := spec.Annotations
	c := &Container{
		ID:   id,
		Name: a[AnnotationContainerName],
		Pod: Pod{
			ID:        a[AnnotationSandboxID],
			UID:       a[AnnotationSandboxUID],
			Name:      a[AnnotationSandboxName],
			Namespace: a[AnnotationSandboxNS],
		},
		Image:        a[AnnotationImageName],
		Annotations:  maps.Clone(a),
		SysctlsKnown: true,
	}
	for _, m := range spec.Mounts {
		vm := Mount{Source: m.Source, Destination: m.Destination, Type: m.Type, Options: m.Options}
		ResolveSubPath(&vm, src.ResolveSubPath)
		c.Mounts = append(c.Mounts, vm)
	}
	c.Hooks = hooksFromSpec(spec.Hooks)
	c.Sandbox = a[AnnotationContainerType] == "sandbox"
	c.Process = processFromSpec(spec)
	readIDMappings(c.Process, spec, src.ReadIDMaps)
	if spec.Process != nil {
		c.Args = slices.Clone(spec.Process.Args)
	}
	lnx := spec.Linux
	if lnx == nil {
		// No linux section: no namespaces of its own, no filter.
		return c
	}
	for _, ns := range lnx.Namespaces {
		c.Namespaces = append(c.Namespaces, Namespace{Type: string(ns.Type), Path: ns.Path, Host: IsHostNamespace(src.IsHostNamespace, string(ns.Type), ns.Path)})
	}
	for _, d := range lnx.Devices {
		c.Devices = append(c.Devices, Device{Path: d.Path, Type: d.Type, Major: d.Major, Minor: d.Minor})
	}
	if lnx.Resources != nil {
		for _, r := range lnx.Resources.Devices {
			c.DeviceRules = append(c.DeviceRules, DeviceRuleFromSpec(r))
		}
	}
	c.Seccomp = Seccomp{State: SeccompCustom, Profile: lnx.Seccomp}
	if IsPermissive(lnx.Seccomp) {
		c.Seccomp.State = SeccompUnconfined
	}
	c.Sysctls = maps.Clone(lnx.Sysctl)
	return c
}

// DeviceRuleFromSpec reads a device cgroup rule as runc does: no type
// is "a", no major or minor is any (-1), no access is rwm.
func DeviceRuleFromSpec(r specs.LinuxDeviceCgroup) DeviceRule {
	out := DeviceRule{Allow: r.Allow, Type: r.Type, Major: -1, Minor: -1, Access: r.Access}
	if out.Type == "" {
		out.Type = "a"
	}
	if out.Access == "" {
		out.Access = "rwm"
	}
	if r.Major != nil {
		out.Major = *r.Major
	}
	if r.Minor != nil {
		out.Minor = *r.Minor
	}
	return out
}

func hooksFromSpec(h *specs.Hooks) []Hook {
	if h == nil {
		return nil
	}
	var out []Hook
	stages := []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	}
	for _, st := range stages {
		for _, hk := range st.hooks {
			out = append(out, Hook{Stage: st.name, Path: hk.Path})
		}
	}
	return out
}

func processFromSpec(spec *specs.Spec) *Process {
	p := &Process{}
	if spec.Root != nil {
		p.RootReadonly = spec.Root.Readonly
	}
	if spec.Linux != nil {
		p.MaskedPaths, p.ReadonlyPaths = spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths
		p.UserNamespace = slices.ContainsFunc(spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
	}
	if spec.Process == nil {
		return p
	}
	p.NoNewPrivileges, p.Cwd, p.UID = spec.Process.NoNewPrivileges, spec.Process.Cwd, spec.Process.User.UID
	p.GID, p.AdditionalGids = spec.Process.User.GID, spec.Process.User.AdditionalGids
	p.AppArmorProfile, p.SELinuxLabel = spec.Process.ApparmorProfile, spec.Process.SelinuxLabel
	if caps := spec.Process.Capabilities; caps != nil {
		p.Capabilities = Capabilities{
			Bounding: caps.Bounding, Effective: caps.Effective, Inheritable: caps.Inheritable,
			Permitted: caps.Permitted, Ambient: caps.Ambient,
		}
	}
	return p
}
