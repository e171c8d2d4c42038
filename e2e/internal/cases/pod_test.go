package cases

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func repoCases(t *testing.T) []File {
	_, file, _, _ := runtime.Caller(0)
	all, err := Load(filepath.Join(filepath.Dir(file), "..", "..", "cases"))
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// Every case of e2e/cases can be made through the API: a new case with a
// CRI field no pod field makes fails here, not on the cluster bed.
func TestEveryCaseIsAPod(t *testing.T) {
	for _, c := range repoCases(t) {
		if _, err := c.KubePod(c.PodName("v2.4.2")); err != nil {
			t.Error(err)
		}
		if c.Kubelet != nil && c.Kubelet.Why == "" {
			t.Errorf("%s: a kubelet difference must say why", c.Name)
		}
	}
}

// podCases are CRI configurations and the pod fields the kubelet makes
// them from.
var podCases = []struct {
	name, pod, container string
	hostNetwork          bool
	want                 []string // fragments of the pod's JSON
	err                  string
}{
	{name: "host pid", pod: `{"linux":{"security_context":{"namespace_options":{"pid":2}}}}`,
		want: []string{`"hostPID":true`}},
	{name: "shared pid", container: `{"linux":{"security_context":{"namespace_options":{"pid":0}}}}`,
		want: []string{`"shareProcessNamespace":true`}},
	{name: "host network flag", hostNetwork: true, want: []string{`"hostNetwork":true`}},
	{name: "sysctls", pod: `{"linux":{"sysctls":{"kernel.msgmax":"65536","a.b":"1"}}}`,
		want: []string{`"sysctls":[{"name":"a.b","value":"1"},{"name":"kernel.msgmax","value":"65536"}]`}},
	{name: "caps and seccomp", container: `{"linux":{"security_context":{"capabilities":{"add_capabilities":["SYS_ADMIN"],"drop_capabilities":["ALL"]},"seccomp":{"profile_type":1}}}}`,
		want: []string{`"capabilities":{"add":["SYS_ADMIN"],"drop":["ALL"]}`, `"seccompProfile":{"type":"Unconfined"}`}},
	{name: "users", container: `{"linux":{"security_context":{"run_as_user":{"value":1000},"run_as_group":{"value":1000},"run_as_non_root":true,"no_new_privs":true,"readonly_rootfs":true,"supplemental_groups":[0]}}}`,
		want: []string{`"runAsUser":1000`, `"runAsGroup":1000`, `"runAsNonRoot":true`, `"allowPrivilegeEscalation":false`, `"readOnlyRootFilesystem":true`, `"supplementalGroups":[0]`}},
	{name: "host path", container: `{"mounts":[{"host_path":"/var/log","container_path":"/logs"}]}`,
		want: []string{`"volumeMounts":[{"mountPath":"/logs","name":"v0"}]`, `"volumes":[{"hostPath":{"path":"/var/log","type":"DirectoryOrCreate"},"name":"v0"}]`}},
	{name: "unmasked", container: `{"linux":{"security_context":{"masked_paths":[],"readonly_paths":[]}}}`,
		want: []string{`"procMount":"Unmasked"`, `"hostUsers":false`}},
	{name: "user namespace", pod: `{"linux":{"security_context":{"namespace_options":{"userns_options":{"mode":0,"uids":[]}}}}}`,
		want: []string{`"hostUsers":false`}},
	{name: "a masked path list", container: `{"linux":{"security_context":{"masked_paths":["/proc/kcore"]}}}`,
		err: "only an empty list"},
	{name: "a node user namespace", pod: `{"linux":{"security_context":{"namespace_options":{"userns_options":{"mode":1}}}}}`,
		err: "only POD (0)"},
	{name: "an unknown field", container: `{"linux":{"security_context":{"apparmor":{"profile_type":1}}}}`,
		err: "container.linux.security_context.apparmor: no pod field makes it"},
}

func TestKubePod(t *testing.T) {
	for _, tc := range podCases {
		t.Run(tc.name, func(t *testing.T) {
			c := File{Name: tc.name, Namespace: DefaultNamespace, HostNetwork: tc.hostNetwork}
			for _, part := range []struct {
				text string
				into *map[string]any
			}{{tc.pod, &c.Pod}, {tc.container, &c.Container}} {
				if part.text != "" {
					if err := json.Unmarshal([]byte(part.text), part.into); err != nil {
						t.Fatal(err)
					}
				}
			}
			pod, err := c.KubePod("p")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := json.Marshal(pod)
			for _, w := range tc.want {
				if !strings.Contains(string(doc), w) {
					t.Errorf("%s lacks %s", doc, w)
				}
			}
		})
	}
}

func TestExecProblems(t *testing.T) {
	equals := "net:[1]"
	x := ExecCheck{Cmd: []string{"readlink"}, Equals: &equals}
	if p := ExecProblems(x, "net:[1]", nil, "net:[1]"); len(p) != 0 {
		t.Errorf("a matching answer: %v", p)
	}
	x = ExecCheck{Cmd: []string{"touch"}, Fails: true, Contains: "Read-only"}
	if p := ExecProblems(x, "", nil, ""); len(p) != 2 {
		t.Errorf("a command that should have failed with a message: %v", p)
	}
}

func TestProblems(t *testing.T) {
	var spec any
	json.Unmarshal([]byte(`{"mounts":[{"destination":"/logs","options":["ro","bind"]}],"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}`), &spec)
	ok := []SpecCheck{{Path: "mounts[destination=/logs].options", Contains: "ro"}, {Path: "linux.seccomp.defaultAction", Equals: "SCMP_ACT_ERRNO"}, {Path: "mounts[destination=/x]", Absent: true}}
	if p := Problems(spec, ok); len(p) != 0 {
		t.Errorf("checks that hold: %v", p)
	}
	bad := []SpecCheck{{Path: "mounts[destination=/logs].options", Contains: "rw"}, {Path: "linux.seccomp", Absent: true}, {Path: "process", Present: true}}
	if p := Problems(spec, bad); len(p) != 3 {
		t.Errorf("checks that fail: %v", p)
	}
}
