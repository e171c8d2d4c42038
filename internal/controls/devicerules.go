package controls

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// A device cgroup rule is what lets a process open a device number; the
// node in /dev is only a name for it. No Kubernetes field writes a rule
// for a device the container is not given: the runtime writes one per
// device of linux.devices, and a privileged pod gets "all". Another NRI
// plugin can write any rule (NRI records no owner for them), and with
// CAP_MKNOD, or a device node in a volume, a rule for "all" opens the
// node's disks and its kernel log. So an allow rule must be backed by a
// device of the spec, or be one the runtime grants every container
// anyway.

// runtimeDefaultRules are the devices runc allows every container
// whatever the spec says (its default device set), in "type major:minor"
// form with * for any.
var runtimeDefaultRules = []string{
	"c 1:3", "c 1:5", "c 1:7", "c 1:8", "c 1:9", // null zero full random urandom
	"c 5:0", "c 5:2", // tty ptmx (not 5:1: the node's console is not runc's default)
	"c 136:*",  // pts
	"c 10:200", // net/tun
}

// deviceRuleFindings refuses each allow rule that opens more than the
// container's own devices and the runtime's defaults. A c or b rule of
// mknod alone gives nothing: runc allows making any node, not opening it.
func deviceRuleFindings(c *view.Container, d *policy.Devices) []Finding {
	var out []Finding
	for i, r := range c.DeviceRules {
		if !r.Allow || mknodOnly(r) || backed(r, c.Devices) || slices.Contains(runtimeDefaultRules, ruleDevices(r)) {
			continue
		}
		fix := "no setting admits a device cgroup rule without its device: give the container the device itself (linux.devices, at an allowed path); only an exception for this pod that sets devices.mode: off lifts the check"
		out = append(out, Finding{
			Control: "devices",
			Field:   fmt.Sprintf("linux.resources.devices[%d]", i),
			Value:   "allow " + ruleDevices(r) + " " + r.Access,
			Problem: "a device cgroup rule that lets the container open devices it was not given",
			Rule:    "devices.allow", Source: d.Allow.Source,
			Verdict: Refuse,
			Fix:     fix, Final: fix,
		})
	}
	return out
}

// mknodOnly: the rule lets the container make nodes but open none. runc
// drops a type "a" rule's numbers and access (any "a" rule allows all),
// so only a c or b rule whose access is exactly some m qualifies.
func mknodOnly(r view.DeviceRule) bool {
	return r.Type != "a" && strings.Trim(r.Access, "m") == ""
}

// backed: the rule names exactly one device number, and a device of the
// spec has it.
func backed(r view.DeviceRule, devices []view.Device) bool {
	return slices.ContainsFunc(devices, r.AllowsExactly)
}

// ruleDevices is the rule's devices as "type major:minor", * for any.
func ruleDevices(r view.DeviceRule) string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return fmt.Sprint(n)
	}
	return r.Type + " " + num(r.Major) + ":" + num(r.Minor)
}
