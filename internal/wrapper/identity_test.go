package wrapper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/record"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// relabel rewrites the identity annotations the way a hostile NRI plugin
// can: the app container claims to be the sandbox of a pod in "tools",
// whose exception grants CAP_SYS_ADMIN.
func relabel(s *specs.Spec) {
	s.Annotations["io.kubernetes.cri.container-type"] = "sandbox"
	s.Annotations["io.kubernetes.cri.sandbox-namespace"] = "tools"
	s.Annotations["io.kubernetes.cri.sandbox-name"] = "toolbox"
}

// joinSandbox gives the spec the namespaces containerd gives an app
// container: its sandbox's, joined through /proc.
func joinSandbox(s *specs.Spec) {
	s.Linux.Namespaces = []specs.LinuxNamespace{
		{Type: "pid"}, {Type: "ipc", Path: "/proc/4242/ns/ipc"}, {Type: "uts", Path: "/proc/4242/ns/uts"},
		{Type: "network", Path: "/proc/4242/ns/net"}, {Type: "mount"},
	}
}

func TestIdentityComesFromTheRecord(t *testing.T) {
	me := record.Identity{Type: record.TypeContainer, SandboxID: "s1", Namespace: "default", Pod: "p", Container: "c"}
	cases := []struct {
		name   string
		spec   func(f *fixture) *specs.Spec
		want   string // fragment of the refusal; "" = created
		logged string // fragment of the decision log
	}{
		{name: "relabelled app container with its record: judged as itself, strictly",
			spec: func(f *fixture) *specs.Spec {
				s := appSpec("default", "CAP_SYS_ADMIN")
				joinSandbox(s)
				relabel(s)
				s.Annotations[record.Annotation] = record.Sign(f.key, record.Record{ContainerID: "c1", Identity: me})
				return s
			},
			want:   "nri-guard: refused default/p/c: capabilities: process.capabilities = CAP_SYS_ADMIN",
			logged: `which was used: sandbox id \"\" (record: \"s1\"), namespace \"tools\" (record: \"default\"), pod \"toolbox\" (record: \"p\"), container type \"sandbox\" (record: container)`},
		{name: "relabelled app container without a record: a sandbox claim with an app container's namespaces is refused",
			spec: func(*fixture) *specs.Spec {
				s := appSpec("default", "CAP_SYS_ADMIN")
				joinSandbox(s)
				relabel(s)
				return s
			},
			want: "identity: annotations[io.kubernetes.cri.container-type] = sandbox: claims to be a pod sandbox, but it joins the ipc namespace /proc/4242/ns/ipc of another process"},
		{name: "a record with a sandbox's annotations is still an app container (runAsRoot, images apply)",
			spec: func(f *fixture) *specs.Spec {
				s := appSpec("tools", "CAP_SYS_ADMIN")
				s.Annotations["io.kubernetes.cri.container-type"] = "sandbox"
				s.Annotations[record.Annotation] = record.Sign(f.key, record.Record{ContainerID: "c1", Identity: me})
				return s
			},
			want: "refused default/p/c: capabilities"},
		{name: "a genuine sandbox shape still takes its pod's exception",
			spec: func(*fixture) *specs.Spec {
				s := appSpec("tools", "CAP_SYS_ADMIN")
				s.Annotations["io.kubernetes.cri.container-type"] = "sandbox"
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "network", Path: "/var/run/netns/cni-1234"})
				return s
			},
			logged: "pod sandbox: exceptions match by namespace and pod name only"},
		{name: "the record's exception applies under the record's identity",
			spec: func(f *fixture) *specs.Spec {
				s := appSpec("default", "CAP_SYS_ADMIN")
				tools := me
				tools.Namespace = "tools"
				s.Annotations[record.Annotation] = record.Sign(f.key, record.Record{ContainerID: "c1", Exception: "tools", Identity: tools})
				return s
			}},
		{name: "a v1 record from before an upgrade keeps its exception",
			spec: func(f *fixture) *specs.Spec {
				s := appSpec("tools", "CAP_SYS_ADMIN")
				s.Annotations[record.Annotation] = v1Record(f.key, "c1", "tools")
				return s
			},
			logged: "decision record v1 (written before an upgrade) carries no identity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.writeSpec(t, tc.spec(f))
			msg := f.create("c1")
			if tc.want == "" && msg != "" || !strings.Contains(msg, tc.want) {
				t.Fatalf("got %q, want %q", msg, tc.want)
			}
			log, _ := os.ReadFile(f.cfg.DecisionLog)
			if !strings.Contains(string(log), tc.logged) {
				t.Fatalf("decision log lacks %q:\n%s", tc.logged, log)
			}
		})
	}
}

// v1Record is what an NRI plugin before the identity was signed wrote.
func v1Record(key []byte, id, exception string) string {
	return record.SignV1ForTest(key, record.Record{ContainerID: id, Exception: exception})
}

func TestEveryHookInTheSpecIsJudged(t *testing.T) {
	withHook := func() *specs.Spec {
		s := appSpec("default")
		// What a CDI device's spec can carry into config.json after NRI's
		// validation: no plugin is named for it.
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/usr/bin/cdi-hook", Args: []string{"cdi-hook", "own"}}}}
		return s
	}
	f := newFixture(t)
	f.writeSpec(t, withHook())
	if msg := f.create("c1"); !strings.Contains(msg, "plugins: hooks.createRuntime = /usr/bin/cdi-hook: OCI hook not listed by the policy would run as root on the node, by rule plugins.hookPaths") {
		t.Fatalf("unlisted hook: %q", msg)
	}
	os.WriteFile(filepath.Join(f.dir, "policy.yaml"), []byte(testPolicy+"controls:\n  plugins:\n    hookPaths: [/usr/bin/cdi-hook]\n"), 0o644)
	f.writeSpec(t, withHook())
	if msg := f.create("c2"); msg != "" {
		t.Fatalf("listed hook refused: %q", msg)
	}
}

func TestJoinedPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/proc/4242/ns/ipc": true, "/proc/1/ns/net": true,
		"/var/run/netns/cni-1": false, "/run/netns/x": false, "": false,
		"/proc/self/ns/net": false, "/proc//ns/net": false, "/proc/12x/ns/net": false,
	} {
		if got := joinedPath(path); got != want {
			t.Errorf("joinedPath(%q) = %v", path, got)
		}
	}
}

// TestPodUIDNeedsTheRecordsWord: a pod's kubelet directory is its own
// only on the NRI plugin's signed word. The UID annotation is the CRI
// client's: a client naming another pod's UID must not get that pod's
// volumes, with or without the plugin.
func TestPodUIDNeedsTheRecordsWord(t *testing.T) {
	me := record.Identity{Type: record.TypeContainer, Namespace: "default", Pod: "p", Container: "c"}
	vouched := me
	vouched.PodUID = "uid-1"
	cases := []struct {
		name   string
		record func(key []byte) string
		refuse string // fragment of the refusal; "" = created
	}{
		{"no record", func([]byte) string { return "" },
			"not credited as the pod's own volume: no signed decision record vouches for the pod UID"},
		{"the plugin did not vouch", func(k []byte) string { return record.Sign(k, record.Record{ContainerID: "c1", Identity: me}) },
			"not credited as the pod's own volume: the NRI plugin did not vouch for the pod UID"},
		{"a v1 record", func(k []byte) string { return v1Record(k, "c1", "") },
			"not credited as the pod's own volume: the decision record (written before an upgrade) does not vouch"},
		{"vouched", func(k []byte) string { return record.Sign(k, record.Record{ContainerID: "c1", Identity: vouched}) }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			// A kubelet root of the test's own, as sensitive as the real one.
			kubelet := filepath.Join(f.dir, "kubelet")
			volume := filepath.Join(kubelet, "pods/uid-1/volumes/kubernetes.io~secret/token")
			os.MkdirAll(volume, 0o755)
			os.WriteFile(filepath.Join(f.dir, "policy.yaml"), []byte(testPolicy+"controls:\n  hostMounts:\n    kubeletRoot: "+kubelet+"\n    extraPaths: ["+kubelet+"]\n"), 0o644)
			s := appSpec("default")
			s.Annotations["io.kubernetes.cri.sandbox-uid"] = "uid-1"
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/token", Type: "bind", Source: volume, Options: []string{"rbind", "ro"}})
			if r := tc.record(f.key); r != "" {
				s.Annotations[record.Annotation] = r
			}
			f.writeSpec(t, s)
			msg := f.create("c1")
			if tc.refuse != "" && !strings.Contains(msg, tc.refuse) {
				t.Fatalf("got %q, want %q", msg, tc.refuse)
			}
			if tc.refuse == "" && msg != "" {
				t.Fatalf("the vouched pod's own volume refused: %q", msg)
			}
		})
	}
}
