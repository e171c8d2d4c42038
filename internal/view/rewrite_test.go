package view

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEveryRewriteKindChangesTheView: the view's applier (used to show
// and re-judge the result) knows every kind, and each says what it does.
func TestEveryRewriteKindChangesTheView(t *testing.T) {
	fresh := func() *Container {
		return &Container{
			Mounts:  []Mount{{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}}},
			Devices: []Device{{Path: "/dev/fuse"}},
			Process: &Process{Capabilities: Capabilities{Bounding: []string{"CAP_SYS_ADMIN"}}},
		}
	}
	for _, k := range RewriteKinds() {
		r := Rewrite{Kind: k, Mount: Mount{Destination: "/logs"}, Device: Device{Path: "/dev/fuse"}, Capability: "CAP_SYS_ADMIN",
			Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}, Paths: []string{"/proc/kcore"}}
		c := fresh()
		c.Apply(r)
		if reflect.DeepEqual(c, fresh()) {
			t.Errorf("%s: the view did not change", k)
		}
		if ch := r.Describe(); ch.Field == "?" || ch.After == "" {
			t.Errorf("%s: not described: %+v", k, ch)
		}
	}
}
