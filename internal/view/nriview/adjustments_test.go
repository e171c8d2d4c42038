package nriview

import (
	"fmt"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
)

// adjustmentCase: an adjustment, who NRI says made it, and the entries
// the view must list as "kind field by [forbidden]".
type adjustmentCase struct {
	name   string
	adj    func(a *api.ContainerAdjustment)
	owners func(o *api.OwningPlugins)
	want   []string
}

var adjustmentCases = []adjustmentCase{
	{name: "nothing adjusted", adj: func(*api.ContainerAdjustment) {}},
	{name: "NRI's initialised but empty parts list nothing", adj: func(a *api.ContainerAdjustment) {
		a.Linux = &api.LinuxContainerAdjustment{Resources: &api.LinuxResources{Memory: &api.LinuxMemory{}, Cpu: &api.LinuxCPU{}, Unified: map[string]string{}}, Rdt: &api.LinuxRdt{}}
	}},
	{name: "identity annotation, by its owner",
		adj:    func(a *api.ContainerAdjustment) { a.AddAnnotation("io.kubernetes.cri.sandbox-name", "coredns-1") },
		owners: func(o *api.OwningPlugins) { o.ClaimAnnotation("c", "io.kubernetes.cri.sandbox-name", "20-x") },
		want:   []string{"annotations annotations[io.kubernetes.cri.sandbox-name] 20-x forbidden"}},
	{name: "removal of nri-guard's record is nobody's: NRI keeps the setter as owner",
		adj: func(a *api.ContainerAdjustment) {
			a.AddAnnotation("nri-guard.io/decision", "v2...")
			a.RemoveAnnotation("nri-guard.io/decision")
		},
		owners: func(o *api.OwningPlugins) { o.ClaimAnnotation("c", "nri-guard.io/decision", "10-nri-guard") },
		want: []string{
			"annotations annotations[nri-guard.io/decision] by? forbidden",
			"annotations annotations[nri-guard.io/decision] 10-nri-guard forbidden",
		}},
	{name: "env set and env removed over another plugin's",
		adj: func(a *api.ContainerAdjustment) {
			a.AddEnv("A", "1")
			a.RemoveEnv("B")
		},
		owners: func(o *api.OwningPlugins) {
			o.ClaimEnv("c", "A", "20-x")
			o.ClearEnv("c", "B", "30-y")
		},
		want: []string{"env env[A] 20-x", "env env[B] 30-y"}},
	{name: "args, rlimits, CDI devices",
		adj: func(a *api.ContainerAdjustment) {
			a.SetArgs([]string{"sh"})
			a.AddRlimit("RLIMIT_CORE", 1, 1)
			a.AddCDIDevice(&api.CDIDevice{Name: "vendor.com/gpu=0"})
		},
		owners: func(o *api.OwningPlugins) {
			o.ClaimArgs("c", "20-x")
			o.ClaimRlimit("c", "RLIMIT_CORE", "20-x")
			o.ClaimCdiDevice("c", "vendor.com/gpu=0", "20-x")
		},
		want: []string{"args args 20-x", "rlimits rlimits[RLIMIT_CORE] 20-x", "cdiDevices CDI_devices[vendor.com/gpu=0] 20-x"}},
	{name: "namespaces: joined, the node's mount, removed user",
		adj: func(a *api.ContainerAdjustment) {
			a.AddOrReplaceNamespace(&api.LinuxNamespace{Type: "network", Path: "/var/run/netns/x"})
			a.AddOrReplaceNamespace(&api.LinuxNamespace{Type: "mount", Path: "/proc/1/ns/mnt"})
			a.RemoveNamespace(&api.LinuxNamespace{Type: "user"})
			a.AddOrReplaceNamespace(&api.LinuxNamespace{Type: "ipc"})
		},
		owners: func(o *api.OwningPlugins) {
			for _, typ := range []string{"network", "mount", "user", "ipc"} {
				o.ClaimNamespace("c", typ, "20-x")
			}
		},
		want: []string{
			"namespaces linux.namespaces[network] 20-x",
			"namespaces linux.namespaces[mount] 20-x forbidden",
			"namespaces linux.namespaces[user] 20-x forbidden",
			"namespaces linux.namespaces[ipc] 20-x",
		}},
	{name: "a network device moved in",
		adj:    func(a *api.ContainerAdjustment) { a.AddLinuxNetDevice("eth0", &api.LinuxNetDevice{Name: "eth9"}) },
		owners: func(o *api.OwningPlugins) { o.ClaimLinuxNetDevice("c", "eth0", "20-x") },
		want:   []string{"netDevices linux.net_devices[eth0] 20-x"}},
	{name: "resources: each set part with its owner; cgroup device rules have none",
		adj: func(a *api.ContainerAdjustment) {
			a.SetLinuxMemoryLimit(1)
			a.SetLinuxCPUSetCPUs("0")
			a.AddLinuxUnified("pids.max", "max")
			a.Linux.Resources.Devices = []*api.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		},
		owners: func(o *api.OwningPlugins) {
			o.ClaimMemLimit("c", "20-x")
			o.ClaimCPUSetCPUs("c", "30-y")
			o.ClaimCgroupsUnified("c", "pids.max", "20-x")
		},
		want: []string{
			"resources linux.resources.memory.limit 20-x",
			"resources linux.resources.cpu.cpus 30-y",
			"resources linux.resources.unified[pids.max] 20-x",
			"resources linux.resources.devices[allow=true  0:0 rwm] by?",
		}},
	{name: "the scalar linux fields",
		adj: func(a *api.ContainerAdjustment) {
			v := -999
			a.SetLinuxCgroupsPath("/x")
			a.SetLinuxOomScoreAdj(&v)
			a.SetLinuxIOPriority(&api.LinuxIOPriority{Class: api.IOPrioClass_IOPRIO_CLASS_RT})
			a.SetLinuxScheduler(&api.LinuxScheduler{Policy: api.LinuxSchedulerPolicy_SCHED_FIFO})
			a.SetLinuxRDTClosID("x")
			a.SetLinuxMemoryPolicy(api.MpolMode_MPOL_BIND, "0")
		},
		owners: func(o *api.OwningPlugins) {
			o.ClaimCgroupsPath("c", "20-x")
			o.ClaimOomScoreAdj("c", "20-x")
			o.ClaimIOPriority("c", "20-x")
			o.ClaimLinuxScheduler("c", "20-x")
			o.ClaimRdtClosID("c", "20-x")
			o.ClaimMemoryPolicy("c", "20-x")
		},
		want: []string{
			"cgroupsPath linux.cgroups_path 20-x", "oomScoreAdj linux.oom_score_adj 20-x", "ioPriority linux.io_priority 20-x",
			"scheduler linux.scheduler 20-x", "rdt linux.rdt 20-x", "memoryPolicy linux.memory_policy 20-x",
		}},
}

func describe(a view.Adjustment) string {
	by := a.By
	if by == "" {
		by = "by?"
	}
	s := fmt.Sprintf("%s %s %s", a.Kind, a.Field, by)
	if a.Forbidden != "" {
		s += " forbidden"
	}
	return s
}

func TestAdjustmentsListEveryFieldKind(t *testing.T) {
	for _, tc := range adjustmentCases {
		t.Run(tc.name, func(t *testing.T) {
			adj := &api.ContainerAdjustment{}
			tc.adj(adj)
			o := api.NewOwningPlugins()
			if tc.owners != nil {
				tc.owners(o)
			}
			c := ApplyNRIAdjustment(&view.Container{ID: "c"}, adj, o, Source{})
			var got []string
			for _, a := range c.Adjustments {
				got = append(got, describe(a))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestUpdatesOfOtherContainersAreListed(t *testing.T) {
	o := api.NewOwningPlugins()
	o.ClaimMemLimit("other", "20-x")
	u := &api.ContainerUpdate{ContainerId: "other"}
	u.SetLinuxMemoryLimit(1)
	got := UpdateAdjustments([]*api.ContainerUpdate{u}, o)
	if len(got) != 1 || describe(got[0]) != "resources update[other].linux.resources.memory.limit 20-x" {
		t.Fatalf("%+v", got)
	}
}
