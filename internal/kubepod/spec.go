package kubepod

import (
	"slices"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Stand-ins for what only a running node knows. They are shaped like the
// real values, so the controls treat them as they would the real ones
// (the pod's own volumes, the sandbox's namespaces).
const (
	sandboxID   = "offline-sandbox"
	defaultUID  = "offline-pod-uid"
	sandboxPID  = "4242"
	kubeletRoot = "/var/lib/kubelet"
	// criRoot is K3s's containerd state for CRI sandboxes.
	criRoot = "/var/lib/rancher/k3s/agent/containerd/io.containerd.grpc.v1.cri/sandboxes/"
	// pauseUID is the user of K3s's pause image (rancher/mirrored-pause).
	pauseUID = 65535
)

// kubeletMaskedPaths is what kubelet sends for procMount: Default
// (pkg/securitycontext), and containerd uses it as sent. It lacks
// /proc/interrupts, which containerd's own default masks; the
// masked-paths control adds it back on a real node too.
var kubeletMaskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}

// build translates one container.
func build(p *Pod, c *container, kind string, opt Options) *Container {
	sc := c.SecurityContext
	if sc == nil {
		sc = &securityContext{}
	}
	psc := p.Spec.SecurityContext
	if psc == nil {
		psc = &podSecurityContext{}
	}
	out := &Container{Pod: p, Kind: kind, Name: c.Name}
	priv := isTrue(sc.Privileged)
	spec := baseSpec(p, c.Name, c.Image, "container")
	spec.Process.Cwd = orDefault(c.WorkingDir, "/")
	out.commandLine(c, spec)
	spec.Process.NoNewPrivileges = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation && !priv
	spec.Root.Readonly = isTrue(sc.ReadOnlyRootFilesystem)
	spec.Process.Capabilities = capSet(containerCaps(sc, priv))
	spec.Process.User.UID = out.user(psc, sc, opt)
	spec.Process.User.GID, spec.Process.User.AdditionalGids = out.group(psc, sc)
	spec.Process.ApparmorProfile = appArmor(p, c.Name, psc, sc, priv)
	spec.Process.SelinuxLabel = seLinux(psc, sc, priv)
	spec.Mounts = append(defaultMounts(priv), containerMounts(p, c, out)...)
	spec.Linux.Namespaces = containerNamespaces(&p.Spec)
	setUserNamespaceIDs(&p.Spec, spec.Linux)
	if !priv && sc.ProcMount != "Unmasked" {
		spec.Linux.MaskedPaths = slices.Clone(kubeletMaskedPaths)
		spec.Linux.ReadonlyPaths = slices.Clone(controls.DefaultReadonlyPaths)
	}
	spec.Linux.Seccomp = out.seccomp(psc.SeccompProfile, sc.SeccompProfile, priv, opt)
	out.Spec = spec
	return out
}

// sandbox translates the pod sandbox (pause container): it holds the
// pod's namespaces and the pod-level sysctls, which containerd sets in the
// sandbox's spec only.
func sandbox(p *Pod) *Container {
	psc := p.Spec.SecurityContext
	if psc == nil {
		psc = &podSecurityContext{}
	}
	out := &Container{Pod: p, Kind: KindSandbox, Name: "POD"}
	spec := baseSpec(p, "", "registry.k8s.io/pause", "sandbox")
	spec.Process.NoNewPrivileges = true
	spec.Root.Readonly = true
	spec.Process.Capabilities = capSet(controls.RuntimeDefaultCapabilities)
	spec.Process.User.UID = pauseUID
	spec.Process.SelinuxLabel = seLinux(psc, &securityContext{}, false)
	if psc.RunAsUser != nil {
		spec.Process.User.UID = uint32(*psc.RunAsUser)
	}
	spec.Mounts = defaultMounts(false)
	spec.Linux.Namespaces = sandboxNamespaces(&p.Spec)
	setUserNamespaceIDs(&p.Spec, spec.Linux)
	spec.Linux.MaskedPaths = slices.Clone(controls.DefaultMaskedPaths)
	spec.Linux.ReadonlyPaths = slices.Clone(controls.DefaultReadonlyPaths)
	spec.Linux.Seccomp = out.seccomp(psc.SeccompProfile, nil, false, Options{})
	if !p.Spec.HostNetwork {
		// containerd's enable_unprivileged_ports and _icmp (on by
		// default) open low ports and ping to the pod's own network.
		spec.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] = "0"
		spec.Linux.Sysctl["net.ipv4.ping_group_range"] = "0 2147483647"
	}
	for _, s := range psc.Sysctls {
		spec.Linux.Sysctl[s.Name] = s.Value
	}
	out.Spec = spec
	return out
}

// baseSpec carries what every container of the pod shares: the CRI
// annotations containerd writes, which name the workload.
func baseSpec(p *Pod, name, image, ctype string) *specs.Spec {
	a := map[string]string{
		view.AnnotationContainerType: ctype,
		view.AnnotationSandboxID:     sandboxID,
		view.AnnotationSandboxName:   p.Meta.Name,
		view.AnnotationSandboxNS:     p.Meta.Namespace,
		view.AnnotationSandboxUID:    podUID(p),
		view.AnnotationImageName:     normalizeImage(image),
	}
	if name != "" {
		a[view.AnnotationContainerName] = name
	}
	return &specs.Spec{
		Version:     specs.Version,
		Annotations: a,
		Process:     &specs.Process{},
		Root:        &specs.Root{Path: "rootfs"},
		Linux:       &specs.Linux{Sysctl: map[string]string{}},
	}
}

func podUID(p *Pod) string {
	if p.Meta.UID != "" {
		return p.Meta.UID
	}
	return defaultUID
}

func capSet(names []string) *specs.LinuxCapabilities {
	// containerd 2.x fills bounding, permitted and effective; never
	// inheritable (CVE-2022-24769) and never ambient from CRI.
	return &specs.LinuxCapabilities{
		Bounding: slices.Clone(names), Permitted: slices.Clone(names), Effective: slices.Clone(names),
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// commandLine is the process's args as far as the manifest shows them:
// command and args replace the image's entrypoint and cmd; args alone
// follow the image's entrypoint, which check cannot see.
func (out *Container) commandLine(c *container, spec *specs.Spec) {
	if len(c.Command) > 0 {
		spec.Process.Args = append(slices.Clone(c.Command), c.Args...)
		return
	}
	spec.Process.Args = slices.Clone(c.Args)
	// Exceptions' match.args then compare only the manifest's args.
	out.ArgsFromImage = true
}
