package controls

import (
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withSysctls(kv map[string]string, hostNet bool) *view.Container {
	return ctr(func(c *view.Container) {
		c.Sysctls = kv
		if hostNet {
			c.Namespaces = c.Namespaces[:3] // drop network: host
		}
	})
}

func TestSysctls(t *testing.T) {
	runTable(t, Sysctls{}, []testCase{
		{name: "none pass", c: ctr(nil)},
		{name: "safe set passes", c: withSysctls(map[string]string{"net.ipv4.ip_local_port_range": "1024 65000", "kernel.shm_rmid_forced": "1"}, false)},
		{name: "unsafe refused", c: withSysctls(map[string]string{"kernel.msgmax": "65536", "net.ipv4.tcp_syncookies": "1"}, false),
			want: []string{"sysctls: linux.sysctl[kernel.msgmax] = 65536: sysctl not in the allowlist, by rule sysctls.allow (built-in default)"}},
		{name: "safe net sysctl in host network refused", c: withSysctls(map[string]string{"net.ipv4.ip_local_port_range": "1024 65000"}, true),
			want: []string{"would change the node's own setting"}},
		{name: "policy glob allows", policy: "sysctls:\n  allow: [\"kernel.msg*\"]\n", c: withSysctls(map[string]string{"kernel.msgmax": "1"}, false)},
	})
}
