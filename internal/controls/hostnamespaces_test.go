package controls

import (
	"slices"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func TestHostNamespaces(t *testing.T) {
	without := func(typ string) func(*view.Container) {
		return func(c *view.Container) {
			var keep []view.Namespace
			for _, ns := range c.Namespaces {
				if ns.Type != typ {
					keep = append(keep, ns)
				}
			}
			c.Namespaces = keep
		}
	}
	runTable(t, HostNamespaces{}, []testCase{
		{name: "own namespaces pass", c: ctr(nil)},
		{name: "host pid (entry absent) refused", c: ctr(without("pid")),
			want:     []string{"host-namespaces: linux.namespaces.pid = (absent: host): shares the node's pid namespace, by rule hostNamespaces.deny (built-in default); to allow it, add an exception for this pod that sets hostNamespaces.deny without pid"},
			verdicts: []Verdict{Refuse}},
		{name: "host network refused", c: ctr(without("network")), want: []string{"shares the node's network namespace"}},
		{name: "joined init namespace refused", c: ctr(func(c *view.Container) {
			c.Namespaces[1] = view.Namespace{Type: "ipc", Path: "/proc/1/ns/ipc", Host: true}
		}), want: []string{"linux.namespaces.ipc = /proc/1/ns/ipc: shares the node's ipc namespace"}},
		{name: "host uts allowed by default", c: ctr(without("uts"))},
		{name: "policy narrows the deny list", policy: "hostNamespaces:\n  deny: [pid]\n", c: ctr(without("network"))},
		{name: "policy source is cited", policy: "hostNamespaces:\n  deny: [network]\n", c: ctr(without("network")),
			want: []string{"by rule hostNamespaces.deny (test.yaml:5)"}},
		{name: "namespace set by a plugin is attributed", c: ctr(func(c *view.Container) {
			c.Namespaces[0] = view.Namespace{Type: "pid", Path: "/proc/1/ns/pid", Host: true, AddedBy: "20-evil"}
		}), want: []string{"(set by NRI plugin 20-evil)"}},
	})
}

func TestUserNamespaces(t *testing.T) {
	withUserNS := func(c *view.Container) {
		c.Namespaces = append(c.Namespaces, view.Namespace{Type: "user", Path: "/proc/4242/ns/user"})
	}
	runTable(t, UserNamespaces{}, []testCase{
		{name: "pod in its own user namespace passes", c: ctr(withUserNS)},
		{name: "pod in the node's user namespace refused", c: ctr(nil),
			want: []string{"user-namespaces: linux.namespaces.user = (absent: host): runs in the node's user namespace, where uid 0 is root on the node, by rule userNamespaces.want (built-in default); set hostUsers: false in the pod spec"}},
		{name: "joining the node's user namespace by path refused", c: ctr(func(c *view.Container) {
			c.Namespaces = append(c.Namespaces, view.Namespace{Type: "user", Path: "/proc/1/ns/user", Host: true})
		}), want: []string{"linux.namespaces.user = /proc/1/ns/user"}},
		{name: "enable: NRI cannot set mappings, the wrapper does", policy: enable, c: ctr(nil)},
		{name: "enable: a full spec gets the pod's user namespace", policy: enable, c: withProcess(nil),
			want:     []string{"user-namespaces: linux.namespaces.user = (absent: host): runs in the node's user namespace, where uid 0 is root on the node (moved into a user namespace of the pod's own), by rule userNamespaces.want (test.yaml:6)"},
			verdicts: []Verdict{Rewrite}},
		{name: "enable: a pod in the node's network namespace is refused", policy: enable, c: func() *view.Container {
			c := withProcess(nil)
			c.Namespaces = slices.DeleteFunc(c.Namespaces, func(ns view.Namespace) bool { return ns.Type == "network" })
			return c
		}(), want: []string{"shares the node's network namespace, so it cannot be given a user namespace, by rule userNamespaces.want (test.yaml:6); run the pod without host namespaces, or add an exception for this pod that sets userNamespaces.mode: off"},
			verdicts: []Verdict{Refuse}},
		{name: "enable: a pod with hostUsers: false is left alone", policy: enable, c: func() *view.Container {
			c := withProcess(nil)
			withUserNS(c)
			return c
		}()},
	})
}

const enable = "userNamespaces:\n  mode: enforce\n  want: enable\n"

func TestUserNamespaceRewriteIsFinal(t *testing.T) {
	s := loadControls(t, enable)
	c := withProcess(nil)
	f := UserNamespaces{}.Check(c, s, testEnv())
	c.Apply(*f[0].Rewrite)
	if got := (UserNamespaces{}).Check(c, s, testEnv()); len(got) != 0 || !c.Process.UserNamespace {
		t.Fatalf("after the rewrite: %s (user namespace %v)", texts(got), c.Process.UserNamespace)
	}
}
