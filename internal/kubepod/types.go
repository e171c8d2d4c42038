package kubepod

// The Kubernetes fields the translation reads, and nothing else: decoding
// into these few structs keeps k8s.io/api (and its ~270 packages) out of
// the binary and keeps yaml.v3's line numbers for errors. Fields the
// controls cannot see are ignored, as kubelet's own unknown-field
// handling would not matter here.

// object is any manifest document; only workload kinds are translated.
type object struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   metadata `yaml:"metadata"`
	Spec       struct {
		// Pod kinds.
		podSpec `yaml:",inline"`
		// Deployment, DaemonSet, StatefulSet, ReplicaSet, Job; and
		// PodTemplate's top-level template.
		Template *template `yaml:"template"`
		// CronJob.
		JobTemplate *struct {
			Spec struct {
				Template *template `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
	// PodTemplate keeps its template at the top level.
	Template *template `yaml:"template"`
}

type metadata struct {
	Name         string            `yaml:"name"`
	GenerateName string            `yaml:"generateName"`
	Namespace    string            `yaml:"namespace"`
	UID          string            `yaml:"uid"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
}

type template struct {
	Metadata metadata `yaml:"metadata"`
	Spec     podSpec  `yaml:"spec"`
}

type podSpec struct {
	Containers            []container         `yaml:"containers"`
	InitContainers        []container         `yaml:"initContainers"`
	EphemeralContainers   []container         `yaml:"ephemeralContainers"`
	Volumes               []volume            `yaml:"volumes"`
	HostNetwork           bool                `yaml:"hostNetwork"`
	HostPID               bool                `yaml:"hostPID"`
	HostIPC               bool                `yaml:"hostIPC"`
	HostUsers             *bool               `yaml:"hostUsers"`
	ShareProcessNamespace *bool               `yaml:"shareProcessNamespace"`
	SecurityContext       *podSecurityContext `yaml:"securityContext"`
	OS                    *struct {
		Name string `yaml:"name"`
	} `yaml:"os"`

	// RuntimeClassName picks the runtime handler; K3s's RuntimeClasses
	// (crun, nvidia, the wasm shims) name the handler alike.
	RuntimeClassName string `yaml:"runtimeClassName"`
}

type podSecurityContext struct {
	RunAsUser       *int64           `yaml:"runAsUser"`
	RunAsGroup      *int64           `yaml:"runAsGroup"`
	RunAsNonRoot    *bool            `yaml:"runAsNonRoot"`
	SeccompProfile  *seccompProfile  `yaml:"seccompProfile"`
	AppArmorProfile *appArmorProfile `yaml:"appArmorProfile"`
	SELinuxOptions  *seLinuxOptions  `yaml:"seLinuxOptions"`
	Sysctls         []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"sysctls"`
	// SupplementalGroups and FSGroup become supplementary groups of every
	// container's process.
	SupplementalGroups []int64 `yaml:"supplementalGroups"`
	FSGroup            *int64  `yaml:"fsGroup"`
}

type container struct {
	Name            string           `yaml:"name"`
	Image           string           `yaml:"image"`
	Command         []string         `yaml:"command"`
	Args            []string         `yaml:"args"`
	WorkingDir      string           `yaml:"workingDir"`
	SecurityContext *securityContext `yaml:"securityContext"`
	VolumeMounts    []volumeMount    `yaml:"volumeMounts"`
}

type securityContext struct {
	Privileged               *bool            `yaml:"privileged"`
	AllowPrivilegeEscalation *bool            `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool            `yaml:"readOnlyRootFilesystem"`
	RunAsUser                *int64           `yaml:"runAsUser"`
	RunAsGroup               *int64           `yaml:"runAsGroup"`
	RunAsNonRoot             *bool            `yaml:"runAsNonRoot"`
	ProcMount                string           `yaml:"procMount"`
	Capabilities             *capabilities    `yaml:"capabilities"`
	SeccompProfile           *seccompProfile  `yaml:"seccompProfile"`
	AppArmorProfile          *appArmorProfile `yaml:"appArmorProfile"`
	SELinuxOptions           *seLinuxOptions  `yaml:"seLinuxOptions"`
}

type capabilities struct {
	Add  []string `yaml:"add"`
	Drop []string `yaml:"drop"`
}

type seccompProfile struct {
	Type             string `yaml:"type"`
	LocalhostProfile string `yaml:"localhostProfile"`
}

type appArmorProfile struct {
	Type             string `yaml:"type"`
	LocalhostProfile string `yaml:"localhostProfile"`
}

type seLinuxOptions struct {
	User  string `yaml:"user"`
	Role  string `yaml:"role"`
	Type  string `yaml:"type"`
	Level string `yaml:"level"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly"`
	SubPath   string `yaml:"subPath"`
}

type volume struct {
	Name     string `yaml:"name"`
	HostPath *struct {
		Path string `yaml:"path"`
	} `yaml:"hostPath"`
	EmptyDir  any `yaml:"emptyDir"`
	ConfigMap any `yaml:"configMap"`
	Secret    any `yaml:"secret"`
	Projected any `yaml:"projected"`
}
