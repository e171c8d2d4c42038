package view

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func userNamespaceSpec(path string, uid, gid []specs.LinuxIDMapping) *specs.Spec {
	return &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{
		Namespaces:  []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.UserNamespace, Path: path}},
		UIDMappings: uid, GIDMappings: gid,
	}}
}

func TestUserNamespaceCountsOnlyAboveTheFloor(t *testing.T) {
	kubelet := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 65536, Size: 65536}}
	rootToRoot := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
	reads := func(uid, gid []specs.LinuxIDMapping, err error) func(string) ([]specs.LinuxIDMapping, []specs.LinuxIDMapping, error) {
		return func(string) ([]specs.LinuxIDMapping, []specs.LinuxIDMapping, error) { return uid, gid, err }
	}
	for _, tc := range []struct {
		name    string
		spec    *specs.Spec
		read    func(string) ([]specs.LinuxIDMapping, []specs.LinuxIDMapping, error)
		problem string // "" when it counts
	}{
		{"a new namespace with kubelet's range", userNamespaceSpec("", kubelet, kubelet), nil, ""},
		{"a new namespace mapping host root", userNamespaceSpec("", rootToRoot, kubelet), nil,
			"linux.uidMappings maps container id 0 to host id 0 (65536 ids), and host id 0 is the node's root"},
		{"no user namespace", &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{}}, nil, "it has no user namespace of its own"},
		{"joined by path: the kernel's mappings, not the spec's", userNamespaceSpec("/proc/42/ns/user", kubelet, kubelet), reads(rootToRoot, rootToRoot, nil),
			"maps container id 0 to host id 0"},
		{"joined by path with good mappings", userNamespaceSpec("/proc/42/ns/user", nil, nil), reads(kubelet, kubelet, nil), ""},
		{"joined by path, unreadable", userNamespaceSpec("/proc/42/ns/user", kubelet, kubelet), reads(nil, nil, errors.New("gone")),
			"it joins the user namespace /proc/42/ns/user, whose id mappings cannot be read (gone)"},
		{"a pinned namespace (containerd's file): the spec's mappings, which runc checks", userNamespaceSpec("/run/pinned/user", kubelet, kubelet),
			reads(nil, nil, ErrNotProcPath), ""},
		{"a pinned namespace mapping host root", userNamespaceSpec("/run/pinned/user", rootToRoot, rootToRoot),
			reads(nil, nil, ErrNotProcPath), "host id 0 is the node's root"},
		{"a pinned namespace without mappings", userNamespaceSpec("/run/pinned/user", nil, nil),
			reads(nil, nil, ErrNotProcPath), "whose id mappings cannot be read"},
		{"joined by path offline: the spec's mappings", userNamespaceSpec("/proc/42/ns/user", kubelet, kubelet), nil, ""},
		{"joined by path offline without mappings", userNamespaceSpec("/proc/42/ns/user", nil, nil), nil,
			"it joins the user namespace /proc/42/ns/user, whose id mappings are not known here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := FromSpec("c", tc.spec, SpecSource{ReadIDMaps: tc.read})
			got := c.Process.UserNamespaceProblem(65536, "userNamespaces.minHostID")
			if tc.problem == "" && got != "" || tc.problem != "" && !strings.Contains(got, tc.problem) {
				t.Fatalf("problem %q, want %q", got, tc.problem)
			}
		})
	}
}

func TestProcIDMapsReadsTheKernelsMappings(t *testing.T) {
	uid, gid, err := ProcIDMaps("/proc/" + strconv.Itoa(os.Getpid()) + "/ns/user")
	if err != nil || len(uid) == 0 || len(gid) == 0 {
		t.Fatalf("%v %v %v", uid, gid, err)
	}
	if _, _, err := ProcIDMaps("/run/userns/pod"); err == nil {
		t.Fatal("a path that is not /proc/<pid>/ns/user must fail")
	}
}
