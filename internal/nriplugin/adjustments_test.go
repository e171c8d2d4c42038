package nriplugin

import (
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/record"
)

// hostileCases are what a later NRI plugin can adjust, one field kind
// each, and the clause of nri-guard's validation refusal that names it.
var hostileCases = []struct {
	name string
	adj  func(a *api.ContainerAdjustment)
	want string
}{
	{"identity annotation", func(a *api.ContainerAdjustment) { a.AddAnnotation("io.kubernetes.cri.container-type", "sandbox") },
		"plugins: annotations[io.kubernetes.cri.container-type] = sandbox: no NRI plugin may change this field: it says who the container is"},
	{"pod namespace annotation", func(a *api.ContainerAdjustment) {
		a.AddAnnotation("io.kubernetes.cri.sandbox-namespace", "kube-system")
	},
		"plugins: annotations[io.kubernetes.cri.sandbox-namespace] = kube-system: no NRI plugin may change this field"},
	{"decision record removed", func(a *api.ContainerAdjustment) { a.RemoveAnnotation(record.Annotation) },
		"plugins: annotations[nri-guard.io/decision] = (removed): no NRI plugin may change this field"},
	{"other annotation", func(a *api.ContainerAdjustment) { a.AddAnnotation("example.com/x", "1") },
		"plugins: annotations[example.com/x] = 1: changed by another NRI plugin; nri-guard has no rule for annotations and the policy does not trust the plugin for it (set by NRI plugin 20-hostile)"},
	{"env", func(a *api.ContainerAdjustment) { a.AddEnv("LD_PRELOAD", "/tmp/x.so") },
		"plugins: env[LD_PRELOAD] = /tmp/x.so: changed by another NRI plugin; nri-guard has no rule for env and the policy does not trust the plugin for it (set by NRI plugin 20-hostile), by rule plugins.allow (built-in default); to trust the plugin for it, add {plugin: 20-hostile, fields: [env]} to plugins.allow"},
	{"args", func(a *api.ContainerAdjustment) { a.SetArgs([]string{"/bin/sh", "-c", "id"}) },
		"plugins: args = /bin/sh -c id: changed by another NRI plugin; nri-guard has no rule for args"},
	{"rlimits", func(a *api.ContainerAdjustment) { a.AddRlimit("RLIMIT_NOFILE", 1<<20, 1<<20) },
		"plugins: rlimits[RLIMIT_NOFILE] = soft 1048576, hard 1048576: changed by another NRI plugin; nri-guard has no rule for rlimits"},
	{"CDI device", func(a *api.ContainerAdjustment) { a.AddCDIDevice(&api.CDIDevice{Name: "example.com/hook=0"}) },
		"plugins: CDI_devices[example.com/hook=0] = example.com/hook=0: changed by another NRI plugin; nri-guard has no rule for cdiDevices"},
	{"network device", func(a *api.ContainerAdjustment) { a.AddLinuxNetDevice("eth0", &api.LinuxNetDevice{Name: "eth1"}) },
		"plugins: linux.net_devices[eth0] = moved into the container as eth1: changed by another NRI plugin; nri-guard has no rule for netDevices"},
	{"namespace joined by path", func(a *api.ContainerAdjustment) {
		a.AddOrReplaceNamespace(&api.LinuxNamespace{Type: "network", Path: "/var/run/netns/other-pod"})
	}, "plugins: linux.namespaces[network] = /var/run/netns/other-pod: changed by another NRI plugin; nri-guard has no rule for namespaces"},
	{"node's mount namespace", func(a *api.ContainerAdjustment) {
		a.AddOrReplaceNamespace(&api.LinuxNamespace{Type: "mount", Path: "/proc/1/ns/mnt"})
	},
		"plugins: linux.namespaces[mount] = /proc/1/ns/mnt: no NRI plugin may change this field: the container would be in the node's mount namespace"},
	{"mount namespace removed", func(a *api.ContainerAdjustment) { a.RemoveNamespace(&api.LinuxNamespace{Type: "mount"}) },
		"plugins: linux.namespaces[mount] = (removed): shares the node's: no NRI plugin may change this field"},
	{"memory limit", func(a *api.ContainerAdjustment) { a.SetLinuxMemoryLimit(1 << 40) },
		"plugins: linux.resources.memory.limit = (set): changed by another NRI plugin; nri-guard has no rule for resources"},
	{"unified cgroup", func(a *api.ContainerAdjustment) { a.AddLinuxUnified("pids.max", "max") },
		"plugins: linux.resources.unified[pids.max] = (set)"},
	{"cgroups path", func(a *api.ContainerAdjustment) { a.SetLinuxCgroupsPath("/outside") },
		"plugins: linux.cgroups_path = /outside: changed by another NRI plugin; nri-guard has no rule for cgroupsPath"},
	{"oom score", func(a *api.ContainerAdjustment) { v := -1000; a.SetLinuxOomScoreAdj(&v) },
		"plugins: linux.oom_score_adj = -1000: changed by another NRI plugin; nri-guard has no rule for oomScoreAdj"},
	{"io priority", func(a *api.ContainerAdjustment) {
		a.SetLinuxIOPriority(&api.LinuxIOPriority{Class: api.IOPrioClass_IOPRIO_CLASS_RT})
	}, "nri-guard has no rule for ioPriority"},
	{"scheduler", func(a *api.ContainerAdjustment) {
		a.SetLinuxScheduler(&api.LinuxScheduler{Policy: api.LinuxSchedulerPolicy_SCHED_FIFO, Priority: 99})
	}, "nri-guard has no rule for scheduler"},
	{"rdt", func(a *api.ContainerAdjustment) { a.SetLinuxRDTClosID("all-cache") }, "nri-guard has no rule for rdt"},
	{"memory policy", func(a *api.ContainerAdjustment) { a.SetLinuxMemoryPolicy(api.MpolMode_MPOL_BIND, "0") },
		"nri-guard has no rule for memoryPolicy"},
	{"hook", func(a *api.ContainerAdjustment) {
		a.AddHooks(&api.Hooks{Prestart: []*api.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch /canary"}}}})
	}, "plugins: hooks.prestart = /bin/sh: OCI hook added by another plugin would run as root on the node (set by NRI plugin 20-hostile)"},
	// Fields with rules of their own are judged by those rules.
	{"sysctl", func(a *api.ContainerAdjustment) { a.SetLinuxSysctl("kernel.core_pattern", "|/tmp/x") }, "sysctls: "},
	{"device", func(a *api.ContainerAdjustment) {
		a.AddDevice(&api.LinuxDevice{Path: "/dev/mem", Type: "c", Major: 1, Minor: 1})
	}, "devices: linux.devices = 1 host devices (/dev/mem, ...)"},
	{"host mount", func(a *api.ContainerAdjustment) {
		a.AddMount(&api.Mount{Source: "/", Destination: "/host", Type: "bind", Options: []string{"rbind", "rw"}})
	}, "host-mounts: mounts[/host].source = /"},
}

// TestValidationJudgesEveryAdjustableField runs a later plugin that
// adjusts one field kind at a time over real NRI ttrpc; each must be
// refused in validation, naming the plugin and the field.
func TestValidationJudgesEveryAdjustableField(t *testing.T) {
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "v2.4.2")
			adj := &api.ContainerAdjustment{}
			tc.adj(adj)
			startPlugin(t, h, "hostile", adj)
			err := refusedWith(t, h, testPod("default", "web"), testContainer("c1"))
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "(judged after all NRI plugins ran)") {
				t.Fatalf("validation refusal:\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

// TestTrustedPluginMayAdjustItsFields: plugins.allow trusts 20-remover
// for env (in namespace nodevices, see testPolicy), and for nothing else.
func TestTrustedPluginMayAdjustItsFields(t *testing.T) {
	h := newHarness(t, "v2.4.2")
	adj := &api.ContainerAdjustment{}
	adj.AddEnv("HTTP_PROXY", "http://proxy:3128")
	startPlugin(t, h, "remover", adj)
	rpl := waitFor(t, func() (*api.CreateContainerResponse, bool) {
		rpl, err := h.create(testPod("nodevices", "web"), testContainer("c1"))
		if err != nil {
			t.Fatalf("trusted env refused: %v", err)
		}
		return rpl, len(rpl.GetAdjust().GetEnv()) > 0
	})
	if r, err := record.Verify(testKey, "c1", rpl.GetAdjust().GetAnnotations()[record.Annotation]); err != nil || r.Identity.Namespace != "nodevices" || r.Identity.Pod != "web" || r.Identity.Type != "container" {
		t.Fatalf("signed identity: %+v %v", r, err)
	}
	if _, err := h.create(testPod("default", "web"), testContainer("c2")); err == nil || !strings.Contains(err.Error(), "env[HTTP_PROXY]") {
		t.Fatalf("the trust is the exception's only: %v", err)
	}
}
