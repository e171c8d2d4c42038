package controls

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Devices refuses or removes host device nodes outside the allowlist.
// An ordinary container has none in its spec (runc creates /dev/null and
// friends itself); a privileged one gets every device of the host.
type Devices struct{}

func (Devices) Meta() Meta {
	return Meta{
		ID: "devices", Key: "devices",
		Reads: "linux.devices, linux.resources.devices (full spec)",
		Does:  "refuses devices outside the allowlist, and a device at an allowed path that is not the node's own device there (type, major:minor as the node has them); names the full host device set of a privileged container as such; refuses a device cgroup rule that opens devices the container was not given (another plugin's, seen by the wrapper). `action: remove` is served as a refusal through NRI, because NRI's runtime side drops device removals",
	}
}

// privilegedHallmarks are devices only the full host set brings: raw
// memory and the kernel log. With them, or with this many devices, the
// container is privileged in all but name.
var privilegedHallmarks = []string{"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg"}

const privilegedDeviceCount = 8

func (Devices) Check(c *view.Container, s *policy.Controls, env *Env) []Finding {
	d := &s.Devices
	return append(nodeFindings(c, d, env), deviceRuleFindings(c, d)...)
}

// nodeFindings judges the device nodes of linux.devices.
func nodeFindings(c *view.Container, d *policy.Devices, env *Env) []Finding {
	var denied []view.Device
	impostor := map[string]string{}
	for _, dev := range c.Devices {
		if !anyMatch(d.Allow.Value, dev.Path) {
			denied = append(denied, dev)
		} else if why := notNodeDevice(dev, env); why != "" {
			denied, impostor[dev.Path] = append(denied, dev), why
		}
	}
	if len(denied) == 0 {
		return nil
	}
	if isPrivilegedSet(denied) {
		return []Finding{privilegedFinding(denied, d)}
	}
	out := make([]Finding, 0, len(denied))
	for _, dev := range denied {
		problem := "host device not in the allowlist"
		if why := impostor[dev.Path]; why != "" {
			problem = why
		}
		f := Finding{
			Control: "devices",
			Field:   "linux.devices[" + dev.Path + "]",
			Value:   fmt.Sprintf("%s %d:%d", dev.Type, dev.Major, dev.Minor),
			Problem: problem,
			By:      dev.AddedBy,
			Rule:    "devices.allow", Source: d.Allow.Source,
			Verdict: Refuse,
			Fix:     exceptionFix("devices.allow: [" + dev.Path + "]"),
			Grant:   &policy.Grant{Key: "devices.allow", Add: []string{dev.Path}},
		}
		if impostor[dev.Path] != "" {
			f.Fix = "no setting admits another device at an allowed path: give the device its node path in the container, and allow that path"
			f.Grant, f.Final = nil, f.Fix
		}
		switch {
		case d.Action.Value == policy.DeviceRemove && env.DeviceRemoval:
			f.Verdict, f.Rewrite = Rewrite, &view.Rewrite{Kind: view.RemoveDevice, Device: dev}
			f.Problem += " (the device is removed)"
		case d.Action.Value == policy.DeviceRemove:
			f.Problem += " (devices.action is remove, but this runtime path cannot remove devices, so it is refused)"
			f.Rule, f.Source = "devices.action", d.Action.Source
		}
		out = append(out, f)
	}
	return out
}

// notNodeDevice says why a device at an allowed path is not the node's
// device at that path ("" when it is, or when the caller cannot look):
// allowing /dev/fuse must not let a client put the node's disk there.
func notNodeDevice(dev view.Device, env *Env) string {
	if env == nil || env.NodeDevice == nil {
		return ""
	}
	typ, major, minor, ok := env.NodeDevice(dev.Path)
	if !ok {
		return "the path is allowed, but the node has no device at " + dev.Path + " to compare it with"
	}
	if typ != dev.KernelType() || major != dev.Major || minor != dev.Minor {
		return fmt.Sprintf("the path is allowed, but the node's %s is %s %d:%d: an allowed path admits only the node's own device there", dev.Path, typ, major, minor)
	}
	return ""
}

func isPrivilegedSet(devs []view.Device) bool {
	if len(devs) >= privilegedDeviceCount {
		return true
	}
	return slices.ContainsFunc(devs, func(d view.Device) bool { return slices.Contains(privilegedHallmarks, d.Path) })
}

// privilegedFinding is always a refusal: removing hundreds of devices
// would leave a privileged container that still has every capability.
func privilegedFinding(devs []view.Device, d *policy.Devices) Finding {
	names := make([]string, 0, 3)
	for _, dev := range devs {
		if len(names) == 3 {
			break
		}
		names = append(names, dev.Path)
	}
	return Finding{
		Control: "devices",
		Field:   "linux.devices",
		Value:   fmt.Sprintf("%d host devices (%s, ...)", len(devs), strings.Join(names, ", ")),
		Problem: "the full host device set of a privileged container",
		By:      devs[0].AddedBy,
		Rule:    "devices.allow", Source: d.Allow.Source,
		Verdict: Refuse,
		Fix:     "privileged containers are refused; to allow this one, add an exception for this pod that sets devices.mode: off",
	}
}

func anyMatch(globs []policy.Glob, s string) bool {
	for _, g := range globs {
		if g.Match(s) {
			return true
		}
	}
	return false
}
