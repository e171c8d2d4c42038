package view

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestHostNamespaceCheckerComparesInodes(t *testing.T) {
	check := HostNamespaceChecker()
	if !check("network", "/proc/self/ns/net") {
		t.Error("this test runs in the host network namespace; /proc/self/ns/net must count as the host's")
	}
	if check("network", "/nonexistent") {
		t.Error("an unreadable path is not the host's")
	}
}

func TestFromSpec(t *testing.T) {
	fuseMajor := int64(10)
	spec := &specs.Spec{
		Annotations: map[string]string{AnnotationSandboxNS: "ns", AnnotationSandboxName: "pod", AnnotationContainerName: "ctr", AnnotationImageName: "img"},
		Hooks:       &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/h"}}},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: "pid", Path: "/proc/1/ns/pid"}, {Type: "network"}},
			Seccomp:    &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &fuseMajor, Access: "rw"}}},
		},
	}
	c := FromSpec("id", spec, SpecSource{})
	wantRules := []DeviceRule{{Type: "a", Major: -1, Minor: -1, Access: "rwm"}, {Allow: true, Type: "c", Major: 10, Minor: -1, Access: "rw"}}
	if !slices.Equal(c.DeviceRules, wantRules) {
		t.Errorf("device rules %+v, want %+v", c.DeviceRules, wantRules)
	}
	if c.Pod.Namespace != "ns" || c.Pod.Name != "pod" || c.Name != "ctr" || c.Image != "img" {
		t.Errorf("identity %+v", c)
	}
	if !c.InHostNamespace("pid") || c.InHostNamespace("network") || !c.InHostNamespace("ipc") {
		t.Error("namespaces misread")
	}
	if c.Seccomp.State != SeccompCustom || len(c.Hooks) != 1 || c.Hooks[0].Stage != "createRuntime" {
		t.Errorf("seccomp %v hooks %v", c.Seccomp.State, c.Hooks)
	}
	if FromSpec("id", &specs.Spec{}, SpecSource{}).Seccomp.State != SeccompUnconfined {
		t.Error("a spec without linux has no filter")
	}
}

func TestMountHelpers(t *testing.T) {
	m := Mount{Type: "none", Options: []string{"rbind", "ro", "rw"}}
	if !m.IsBind() || m.ReadOnly() {
		t.Error("the last of ro/rw wins")
	}
	if got := WithReadOnly([]string{"rbind", "rw", "nosuid"}); len(got) != 3 || got[2] != "ro" {
		t.Errorf("WithReadOnly %v", got)
	}
}
