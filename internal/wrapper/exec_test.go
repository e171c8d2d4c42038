package wrapper

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// execContainer writes a running container as the wrapper finds it at
// exec: runc's state naming the bundle, and the bundle's final spec (a
// non-root user, no_new_privs, CAP_CHOWN only, LSM labels).
func execContainer(t *testing.T) (root, dir string) {
	dir = t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	root = filepath.Join(dir, "runc-root")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(bundle, 0o755))
	must(os.MkdirAll(filepath.Join(root, "c1"), 0o700))
	chown := []string{"CAP_CHOWN"}
	oomScore := 100
	spec := specs.Spec{Process: &specs.Process{
		Cwd: "/", User: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 2000}}, NoNewPrivileges: true,
		ApparmorProfile: "cri-containerd.apparmor.d", SelinuxLabel: "system_u:system_r:container_t:s0:c1,c2",
		Capabilities: &specs.LinuxCapabilities{Bounding: chown, Effective: chown, Permitted: chown},
		Rlimits:      []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}, OOMScoreAdj: &oomScore,
	}}
	data, _ := json.Marshal(&spec)
	must(os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600))
	must(os.WriteFile(filepath.Join(root, "c1", "state.json"), []byte(`{"config":{"labels":["bundle=`+bundle+`"]}}`), 0o600))
	return root, dir
}

// The process containerd hands runc for `kubectl exec`: built from the
// container's spec as the client sent it, before the wrapper's rewrite.
const clientProcess = `{"cwd":"/","args":["sh"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"oomScoreAdj":100,"user":{"uid":1000,"gid":1000,"additionalGids":[1000,2000]},
	"apparmorProfile":"cri-containerd.apparmor.d","selinuxLabel":"system_u:system_r:container_t:s0:c1,c2",
	"capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]}}`

func TestExecProcessGetsWhatTheContainerHas(t *testing.T) {
	for _, tc := range []struct {
		name, edit string // edit is merged over clientProcess
		refused    string // "" when allowed
		check      func(p *specs.Process) bool
	}{
		{name: "kubectl exec as the container runs: no_new_privs comes back on", edit: `{}`,
			check: func(p *specs.Process) bool { return p.NoNewPrivileges }},
		{name: "capabilities the container lacks, in every set", edit: `{"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_ADMIN"],
			"effective":["CAP_CHOWN","CAP_SYS_ADMIN"],"permitted":["CAP_SYS_ADMIN"],"inheritable":["CAP_SYS_ADMIN"],"ambient":["CAP_SYS_ADMIN"]}}`,
			check: func(p *specs.Process) bool {
				c := p.Capabilities
				return slices.Equal(c.Bounding, []string{"CAP_CHOWN"}) && slices.Equal(c.Effective, []string{"CAP_CHOWN"}) &&
					len(c.Permitted) == 0 && len(c.Inheritable) == 0 && len(c.Ambient) == 0
			}},
		{name: "another AppArmor profile and SELinux label", edit: `{"apparmorProfile":"unconfined","selinuxLabel":"system_u:system_r:spc_t:s0"}`,
			check: func(p *specs.Process) bool {
				return p.ApparmorProfile == "cri-containerd.apparmor.d" && p.SelinuxLabel == "system_u:system_r:container_t:s0:c1,c2"
			}},
		{name: "raised rlimits, OOM score and scheduling", edit: `{"rlimits":[{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576}],"oomScoreAdj":-1000,
			"scheduler":{"policy":"SCHED_FIFO","priority":99}}`,
			check: func(p *specs.Process) bool {
				return len(p.Rlimits) == 1 && p.Rlimits[0].Hard == 1024 && *p.OOMScoreAdj == 100 && p.Scheduler == nil
			}},
		{name: "uid 0 in a container that runs as 1000", edit: `{"user":{"uid":0,"gid":1000}}`, refused: "exec-user: process.user.uid = 0"},
		{name: "gid 0", edit: `{"user":{"uid":1000,"gid":0}}`, refused: "exec-user: process.user.gid = 0"},
		{name: "supplementary group 0", edit: `{"user":{"uid":1000,"gid":1000,"additionalGids":[0]}}`, refused: "process.user.additionalGids = 0"},
		{name: "fewer supplementary groups", edit: `{"user":{"uid":1000,"gid":1000,"additionalGids":[2000]}}`,
			check: func(p *specs.Process) bool { return slices.Equal(p.User.AdditionalGids, []uint32{2000}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, dir := execContainer(t)
			var p map[string]any
			json.Unmarshal([]byte(clientProcess), &p)
			var edit map[string]any
			if err := json.Unmarshal([]byte(tc.edit), &edit); err != nil {
				t.Fatal(err)
			}
			for k, v := range edit {
				p[k] = v
			}
			data, _ := json.Marshal(p)
			proc := filepath.Join(dir, "process.json")
			os.WriteFile(proc, data, 0o600)
			msg := guardExec(parseInvocation([]string{"--root", root, "exec", "--process", proc, "--detach", "--pid-file", "/x.pid", "c1"}))
			if tc.refused != "" {
				if !strings.Contains(msg, tc.refused) {
					t.Fatalf("refusal %q, want %q", msg, tc.refused)
				}
				return
			}
			if msg != "" {
				t.Fatal(msg)
			}
			var got specs.Process
			data, _ = os.ReadFile(proc)
			if err := json.Unmarshal(data, &got); err != nil || !tc.check(&got) {
				t.Fatalf("process given to runc: %s", data)
			}
		})
	}
}

func TestExecFlagsGetNoMoreThanTheContainer(t *testing.T) {
	for _, tc := range []struct {
		args    string
		refused string // "" when allowed
	}{
		{"c1 sh", ""},
		{"-t -d --cwd /tmp -e A=1 --env=B=2 --pid-file /p --console-socket /s c1 sh -c 'id'", ""}, // -c after the ID is the command's
		{"--cap CAP_CHOWN c1 sh", ""},
		{"--cap CAP_SYS_ADMIN c1 sh", "--cap = CAP_SYS_ADMIN"},
		{"-c=CAP_NET_RAW c1 sh", "--cap = CAP_NET_RAW"},
		{"-cap CAP_SYS_PTRACE c1 sh", "--cap = CAP_SYS_PTRACE"},
		{"--no-new-privs c1 sh", ""},
		{"--no-new-privs=false c1 sh", "--no-new-privs = false"},
		{"--apparmor unconfined c1 sh", "--apparmor = unconfined"},
		{"--apparmor cri-containerd.apparmor.d c1 sh", ""},
		{"--process-label system_u:system_r:spc_t:s0 c1 sh", "--process-label = system_u:system_r:spc_t:s0"},
		{"-u 0 c1 sh", "--user/--additional-gids.uid = 0"},
		{"--user 1000:0 c1 sh", "--user/--additional-gids.gid = 0"},
		{"--user=1000:1000 c1 sh", ""},
		{"-g 0 c1 sh", "--user/--additional-gids.additionalGids = 0"},
		{"--additional-gids 2000 c1 sh", ""},
		{"--user root c1 sh", "--user = root"},
		{"--privileged c1 sh", "unknown flag --privileged"},
		{"--cap CAP_SYS_ADMIN", "no valid container ID"},
		{"../c1 sh", "no valid container ID"},
		{"missing sh", "cannot read the container's final spec"},
		{"--cwd /proc/self/fd/5 c1 sh", "CVE-2024-21626"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			root, _ := execContainer(t)
			msg := guardExec(parseInvocation(append([]string{"--root", root, "exec"}, strings.Fields(tc.args)...)))
			if tc.refused == "" && msg != "" || tc.refused != "" && !strings.Contains(msg, tc.refused) {
				t.Fatalf("got %q, want %q", msg, tc.refused)
			}
		})
	}
}

// An exec whose container the wrapper cannot read is refused: it cannot
// be given what the container runs with.
func TestExecFailsClosedWithoutTheContainersSpec(t *testing.T) {
	var root, dir string // breakIt acts on each subtest's container
	for name, breakIt := range map[string]func(){
		"no runc state": func() { os.RemoveAll(filepath.Join(root, "c1")) },
		"no bundle label": func() {
			os.WriteFile(filepath.Join(root, "c1", "state.json"), []byte(`{"config":{"labels":[]}}`), 0o600)
		},
		"no config.json":  func() { os.Remove(filepath.Join(dir, "bundle", "config.json")) },
		"bad config.json": func() { os.WriteFile(filepath.Join(dir, "bundle", "config.json"), []byte("{"), 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			root, dir = execContainer(t)
			proc := filepath.Join(dir, "process.json")
			os.WriteFile(proc, []byte(clientProcess), 0o600)
			breakIt()
			if msg := guardExec(parseInvocation([]string{"--root", root, "exec", "--process", proc, "c1"})); !strings.Contains(msg, "cannot read the container's final spec") {
				t.Fatalf("got %q", msg)
			}
		})
	}
}
