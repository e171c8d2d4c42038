package controls

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
)

func withDevices(paths ...string) *view.Container {
	return ctr(func(c *view.Container) {
		for i, p := range paths {
			c.Devices = append(c.Devices, view.Device{Path: p, Type: "c", Major: 10, Minor: int64(i)})
		}
	})
}

func TestDevicesRemovedWhereTheCallerCan(t *testing.T) {
	s := loadControls(t, "devices:\n  action: remove\n")
	got := Devices{}.Check(withDevices("/dev/fuse", "/dev/net/tun"), s, &Env{Caller: Caller{DeviceRemoval: true}})
	if len(got) != 2 || got[0].Verdict != Rewrite || got[1].Rewrite.Device.Path != "/dev/net/tun" {
		t.Fatalf("want two removals, got:\n%s", texts(got))
	}
}

func TestDevices(t *testing.T) {
	many := make([]string, 0, 40)
	for i := 0; i < 40; i++ {
		many = append(many, fmt.Sprintf("/dev/tty%d", i))
	}
	runTable(t, Devices{}, []testCase{
		{name: "no devices pass", c: ctr(nil)},
		{name: "one device refused", c: withDevices("/dev/fuse"),
			want:     []string{"devices: linux.devices[/dev/fuse] = c 10:0: host device not in the allowlist, by rule devices.allow (built-in default); to allow it, add an exception for this pod that sets devices.allow: [/dev/fuse]"},
			verdicts: []Verdict{Refuse}},
		{name: "allowlisted device passes", policy: "devices:\n  allow: [/dev/fuse]\n", c: withDevices("/dev/fuse")},
		{name: "glob allowlist", policy: "devices:\n  allow: [\"/dev/nvidia*\"]\n", c: withDevices("/dev/nvidia0", "/dev/nvidiactl")},
		{name: "remove action refuses where removal is impossible", policy: "devices:\n  action: remove\n", c: withDevices("/dev/fuse"),
			want: []string{"cannot remove devices, so it is refused), by rule devices.action (test.yaml:5)"}, verdicts: []Verdict{Refuse}},
		{name: "full host set named privileged", c: withDevices(many...),
			want: []string{"devices: linux.devices = 40 host devices (/dev/tty0, /dev/tty1, /dev/tty2, ...): the full host device set of a privileged container"}},
		{name: "privileged set refused even with remove", policy: "devices:\n  action: remove\n", c: withDevices("/dev/mem"),
			want: []string{"privileged container"}, verdicts: []Verdict{Refuse}},
		{name: "allowlisted devices do not count toward the set", policy: "devices:\n  allow: [\"/dev/tty*\"]\n", c: withDevices(many...)},
	})
}

// TestAllowedPathNeedsTheNodesDevice: a CRI client names a device's
// container path and its host path apart. With /dev/fuse allowed, the
// node's disk at /dev/fuse in the container is refused (red team).
func TestAllowedPathNeedsTheNodesDevice(t *testing.T) {
	s := loadControls(t, "devices:\n  allow: [/dev/fuse, /dev/gone]\n")
	env := &Env{Caller: Caller{NodeDevice: func(path string) (string, int64, int64, bool) {
		if path == "/dev/fuse" {
			return "c", 10, 229, true
		}
		return "", 0, 0, false
	}}}
	dev := func(path, typ string, major, minor int64) *view.Container {
		return ctr(func(c *view.Container) {
			c.Devices = []view.Device{{Path: path, Type: typ, Major: major, Minor: minor}}
		})
	}
	if got := (Devices{}).Check(dev("/dev/fuse", "c", 10, 229), s, env); len(got) != 0 {
		t.Fatalf("the node's own /dev/fuse refused:\n%s", texts(got))
	}
	if got := (Devices{}).Check(dev("/dev/fuse", "u", 10, 229), s, env); len(got) != 0 {
		t.Fatalf("/dev/fuse as an unbuffered character device refused:\n%s", texts(got))
	}
	for name, c := range map[string]*view.Container{
		"the node's disk at /dev/fuse": dev("/dev/fuse", "b", 8, 0),
		"another char device":          dev("/dev/fuse", "c", 1, 1),
		"no node device to compare":    dev("/dev/gone", "c", 10, 229),
	} {
		got := Devices{}.Check(c, s, env)
		if len(got) != 1 || got[0].Verdict != Refuse || !strings.Contains(got[0].Problem, "the path is allowed, but the node") {
			t.Errorf("%s: want one refusal, got:\n%s", name, texts(got))
		}
	}
}

func withRules(devices []view.Device, rules ...view.DeviceRule) *view.Container {
	return ctr(func(c *view.Container) { c.Devices, c.DeviceRules = devices, rules })
}

// TestDeviceRules: the wrapper sees the device cgroup; an allow rule
// must be backed by a device of the spec or be one of runc's defaults
// (red team: a later plugin's "allow all" rule, mknod, /dev/kmsg).
func TestDeviceRules(t *testing.T) {
	denyAll := view.DeviceRule{Type: "a", Major: -1, Minor: -1, Access: "rwm"}
	fuse := view.Device{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}
	rule := func(typ string, major, minor int64, access string) view.DeviceRule {
		return view.DeviceRule{Allow: true, Type: typ, Major: major, Minor: minor, Access: access}
	}
	fuseAllowed := "devices:\n  allow: [/dev/fuse]\n"
	runTable(t, Devices{}, []testCase{
		{name: "containerd's deny-all rule passes", c: withRules(nil, denyAll)},
		{name: "a rule for a device of the spec passes", policy: fuseAllowed, c: withRules([]view.Device{fuse}, denyAll, rule("c", 10, 229, "rwm"))},
		{name: "runc's default devices pass", c: withRules(nil, rule("c", 1, 3, "rwm"), rule("c", 136, -1, "rwm"))},
		{name: "mknod alone passes", c: withRules(nil, rule("c", -1, -1, "m"), rule("b", -1, -1, "m"))},
		{name: "allow all is refused", c: withRules(nil, denyAll, rule("a", -1, -1, "rwm")),
			want:     []string{"devices: linux.resources.devices[1] = allow a *:* rwm: a device cgroup rule that lets the container open devices it was not given, by rule devices.allow (built-in default); no setting admits a device cgroup rule without its device"},
			verdicts: []Verdict{Refuse}},
		{name: "allow all with mknod access is allow all to runc", c: withRules(nil, rule("a", -1, -1, "m")),
			want: []string{"allow a *:* m"}, verdicts: []Verdict{Refuse}},
		{name: "access letters runc reads otherwise are refused", c: withRules(nil, rule("b", 8, 0, "RW")),
			want: []string{"allow b 8:0 RW"}, verdicts: []Verdict{Refuse}},
		{name: "the node's console is not a runc default", c: withRules(nil, rule("c", 5, 1, "rw")),
			want: []string{"allow c 5:1 rw"}, verdicts: []Verdict{Refuse}},
		{name: "a rule for the kernel log without its node is refused", c: withRules(nil, rule("c", 1, 11, "w")),
			want: []string{"linux.resources.devices[0] = allow c 1:11 w"}, verdicts: []Verdict{Refuse}},
		{name: "a wildcard minor beside a backed device is refused", policy: fuseAllowed, c: withRules([]view.Device{fuse}, rule("c", 10, -1, "rw")),
			want: []string{"allow c 10:* rw"}, verdicts: []Verdict{Refuse}},
		{name: "a block rule for a char device is refused", policy: fuseAllowed, c: withRules([]view.Device{fuse}, rule("b", 10, 229, "r")),
			want: []string{"allow b 10:229 r"}, verdicts: []Verdict{Refuse}},
	})
}
