package nriview

import (
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
)

func TestSeccompFromNRI(t *testing.T) {
	filter := &api.LinuxSeccomp{DefaultAction: "SCMP_ACT_ERRNO"}
	allowAll := &api.LinuxSeccomp{DefaultAction: "SCMP_ACT_ALLOW"}
	rd := &api.SecurityProfile{ProfileType: api.SecurityProfile_RUNTIME_DEFAULT}
	uc := &api.SecurityProfile{ProfileType: api.SecurityProfile_UNCONFINED}
	lh := &api.SecurityProfile{ProfileType: api.SecurityProfile_LOCALHOST, LocalhostRef: "p.json"}
	cases := []struct {
		name    string
		profile *api.SecurityProfile
		policy  *api.LinuxSeccomp
		want    view.SeccompState
	}{
		{"nothing asked, nothing in the spec (containerd 2.4)", nil, nil, view.SeccompUnconfined},
		{"unconfined asked", uc, nil, view.SeccompUnconfined},
		{"runtime default asked, filter not reported (containerd 2.2)", rd, nil, view.SeccompRuntimeDefault},
		{"runtime default with its filter (containerd 2.3+)", rd, filter, view.SeccompRuntimeDefault},
		{"localhost", lh, filter, view.SeccompLocalhost},
		{"filter without a request (unset_seccomp_profile)", nil, filter, view.SeccompCustom},
		{"localhost profile that allows everything is unconfined", lh, allowAll, view.SeccompUnconfined},
	}
	for _, tc := range cases {
		got := seccompFromNRI(tc.profile, tc.policy)
		if got.State != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got.State, tc.want)
		}
	}
}

func TestInHostNamespace(t *testing.T) {
	c := FromNRI(&api.PodSandbox{}, &api.Container{Linux: &api.LinuxContainer{Namespaces: []*api.LinuxNamespace{
		{Type: "pid", Path: "/proc/77/ns/pid"}, {Type: "ipc", Path: "/proc/1/ns/ipc"}, {Type: "uts"},
	}}}, Source{})
	for typ, want := range map[string]bool{"pid": false, "ipc": true, "uts": false, "network": true} {
		if got := c.InHostNamespace(typ); got != want {
			t.Errorf("InHostNamespace(%s) = %v, want %v", typ, got, want)
		}
	}
}

func TestApplyNRIAdjustment(t *testing.T) {
	c := FromNRI(&api.PodSandbox{Id: "s"}, &api.Container{
		Id:     "c",
		Mounts: []*api.Mount{{Destination: "/a", Source: "/srv/a"}, {Destination: "/b", Source: "/srv/b"}},
		Linux: &api.LinuxContainer{
			Namespaces: []*api.LinuxNamespace{{Type: "pid", Path: "/proc/7/ns/pid"}},
			Devices:    []*api.LinuxDevice{{Path: "/dev/x"}},
			Sysctl:     map[string]string{"kernel.a": "1"},
		},
	}, Source{})
	adj := &api.ContainerAdjustment{}
	adj.RemoveMount("/a")
	adj.AddMount(&api.Mount{Destination: "/b", Source: "/", Options: []string{"rbind"}})
	adj.AddMount(&api.Mount{Destination: "/c", Source: "/etc"})
	adj.AddDevice(&api.LinuxDevice{Path: "/dev/mem"})
	adj.RemoveNamespace(&api.LinuxNamespace{Type: "pid"})
	adj.SetLinuxSeccompPolicy(&api.LinuxSeccomp{DefaultAction: "SCMP_ACT_ALLOW"})
	adj.SetLinuxSysctl("kernel.b", "2")
	adj.AddHooks(&api.Hooks{Prestart: []*api.Hook{{Path: "/x"}}})
	owners := api.NewOwningPlugins()
	owners.ClaimMount("c", "/b", "20-p")
	owners.ClaimMount("c", "/c", "20-p")
	owners.ClaimDevice("c", "/dev/mem", "20-p")
	owners.ClaimSeccompPolicy("c", "30-q")
	owners.ClaimHooks("c", "40-r")

	got := ApplyNRIAdjustment(c, adj, owners, Source{})
	if len(got.Mounts) != 2 || got.Mounts[0].Destination != "/b" || got.Mounts[0].Source != "/" || got.Mounts[0].AddedBy != "20-p" || got.Mounts[1].AddedBy != "20-p" {
		t.Errorf("mounts %+v", got.Mounts)
	}
	if len(got.Devices) != 2 || got.Devices[1].AddedBy != "20-p" {
		t.Errorf("devices %+v", got.Devices)
	}
	if !got.InHostNamespace("pid") {
		t.Error("removing the pid namespace puts the container in the host's")
	}
	if got.Seccomp.State != view.SeccompUnconfined || got.Seccomp.AddedBy != "30-q" {
		t.Errorf("an allow-all filter from a plugin is unconfined, owned by it: %+v", got.Seccomp)
	}
	if got.Sysctls["kernel.b"] != "2" || got.Sysctls["kernel.a"] != "1" {
		t.Errorf("sysctls %v", got.Sysctls)
	}
	if len(got.Hooks) != 1 || got.Hooks[0].AddedBy != "40-r" {
		t.Errorf("hooks %+v", got.Hooks)
	}
	if len(c.Mounts) != 2 || c.Mounts[0].Destination != "/a" || c.Sysctls["kernel.b"] != "" {
		t.Error("the pristine view must not change")
	}
	if ApplyNRIAdjustment(c, nil, nil, Source{}).Mounts[0].Destination != "/a" {
		t.Error("a nil adjustment changes nothing")
	}
}
