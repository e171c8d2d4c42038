//go:build e2e

package e2e

// The fields of a fixture pod that kubelet turns into CRI requests, and
// that turning, as kubelet does it for the security fields (pkg/kubelet/
// kuberuntime): capabilities and profile types pass as written, a
// container's securityContext overrides the pod's field by field.

type fixturePod struct {
	Spec struct {
		OS                  struct{ Name string } `yaml:"os"`
		HostNetwork         bool                  `yaml:"hostNetwork"`
		HostPID             bool                  `yaml:"hostPID"`
		HostIPC             bool                  `yaml:"hostIPC"`
		HostUsers           *bool                 `yaml:"hostUsers"`
		SecurityContext     fixtureSC             `yaml:"securityContext"`
		Containers          []fixtureContainer    `yaml:"containers"`
		InitContainers      []fixtureContainer    `yaml:"initContainers"`
		EphemeralContainers []fixtureContainer    `yaml:"ephemeralContainers"`
	} `yaml:"spec"`
}

type fixtureContainer struct {
	SecurityContext fixtureSC `yaml:"securityContext"`
}

// fixtureSC is the pod's and the container's securityContext in one.
type fixtureSC struct {
	Privileged               *bool           `yaml:"privileged"`
	AllowPrivilegeEscalation *bool           `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool           `yaml:"readOnlyRootFilesystem"`
	RunAsUser                *int64          `yaml:"runAsUser"`
	RunAsNonRoot             *bool           `yaml:"runAsNonRoot"`
	ProcMount                string          `yaml:"procMount"`
	SeccompProfile           *fixtureSeccomp `yaml:"seccompProfile"`
	Capabilities             *struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	Sysctls []struct{ Name, Value string } `yaml:"sysctls"`
}

type fixtureSeccomp struct {
	Type string `yaml:"type"`
}

func (p *fixturePod) containers() []*fixtureContainer {
	var out []*fixtureContainer
	for _, list := range [][]fixtureContainer{p.Spec.InitContainers, p.Spec.Containers, p.Spec.EphemeralContainers} {
		for i := range list {
			out = append(out, &list[i])
		}
	}
	return out
}

// usernsMapping is what kubelet would allocate for hostUsers: false.
var usernsMapping = map[string]any{"mode": 0,
	"uids": []any{map[string]any{"host_id": 200000, "container_id": 0, "length": 65536}},
	"gids": []any{map[string]any{"host_id": 200000, "container_id": 0, "length": 65536}}}

func (p *fixturePod) namespaceOptions() map[string]any {
	ns := map[string]any{"pid": 1}
	if p.Spec.HostPID {
		ns["pid"] = 2
	}
	if p.Spec.HostIPC {
		ns["ipc"] = 2
	}
	if p.Spec.HostUsers != nil && !*p.Spec.HostUsers {
		ns["userns_options"] = usernsMapping
	}
	return ns
}

// podConfig is the sandbox request: namespaces, sysctls, the pod's
// seccomp profile, privileged when any container is.
func (p *fixturePod) podConfig() map[string]any {
	sc := map[string]any{"namespace_options": p.namespaceOptions(), "seccomp": seccompField(p.Spec.SecurityContext.SeccompProfile)}
	for _, c := range p.containers() {
		if isSet(c.SecurityContext.Privileged) {
			sc["privileged"] = true
		}
	}
	if u := p.Spec.SecurityContext.RunAsUser; u != nil {
		sc["run_as_user"] = map[string]any{"value": *u}
	}
	sysctls := map[string]any{}
	for _, s := range p.Spec.SecurityContext.Sysctls {
		sysctls[s.Name] = s.Value
	}
	return map[string]any{"linux": map[string]any{"security_context": sc, "sysctls": sysctls}}
}

// containerConfig is one container's request.
func (p *fixturePod) containerConfig(c *fixtureContainer) map[string]any {
	psc, csc := &p.Spec.SecurityContext, &c.SecurityContext
	sc := map[string]any{
		"namespace_options": p.namespaceOptions(),
		"privileged":        isSet(csc.Privileged),
		"readonly_rootfs":   isSet(csc.ReadOnlyRootFilesystem),
		"no_new_privs":      csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation,
		"seccomp":           seccompField(firstSeccomp(csc.SeccompProfile, psc.SeccompProfile)),
		"masked_paths":      kubeletMaskedPaths,
		"readonly_paths":    kubeletReadonlyPaths,
	}
	if csc.ProcMount == "Unmasked" {
		sc["masked_paths"], sc["readonly_paths"] = []any{}, []any{}
	}
	if caps := csc.Capabilities; caps != nil {
		sc["capabilities"] = map[string]any{"add_capabilities": caps.Add, "drop_capabilities": caps.Drop}
	}
	if u := runAsUser(psc, csc); u != nil {
		sc["run_as_user"] = map[string]any{"value": *u}
	}
	return map[string]any{"linux": map[string]any{"security_context": sc}}
}

// runAsUser: the container's, else the pod's. With runAsNonRoot and no
// uid kubelet would refuse the busybox image (root); the pod runs as
// 65534, the uid nri-guard check assumes for such a pod.
func runAsUser(psc, csc *fixtureSC) *int64 {
	for _, u := range []*int64{csc.RunAsUser, psc.RunAsUser} {
		if u != nil {
			return u
		}
	}
	if isSet(csc.RunAsNonRoot) || (csc.RunAsNonRoot == nil && isSet(psc.RunAsNonRoot)) {
		nobody := int64(65534)
		return &nobody
	}
	return nil
}

func firstSeccomp(c, p *fixtureSeccomp) *fixtureSeccomp {
	if c != nil {
		return c
	}
	return p
}

// seccompField: CRI profile types RuntimeDefault 0, Unconfined 1; unset
// is Unconfined (kubelet without --seccomp-default).
func seccompField(p *fixtureSeccomp) map[string]any {
	if p != nil && p.Type == "RuntimeDefault" {
		return map[string]any{"profile_type": 0}
	}
	return map[string]any{"profile_type": 1}
}

func isSet(b *bool) bool { return b != nil && *b }
