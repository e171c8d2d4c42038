package nriview

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/nri/pkg/api"
	"github.com/nri-guard/nri-guard/internal/view"
)

// owners answers "which plugin set this" for one container from NRI's
// ownership records: simple fields by Field, compound ones by Field and key.
type owners struct{ f *api.FieldOwners }

func ownersOf(o *api.OwningPlugins, id string) owners {
	return owners{o.GetOwners()[id]}
}

func (o owners) simple(field api.Field) string {
	return api.ClearRemovalMarker(o.f.GetSimple()[field.Key()])
}

func (o owners) compound(field api.Field, key string) string {
	return api.ClearRemovalMarker(o.f.GetCompound()[field.Key()].GetOwners()[key])
}

// removal names who removed a compound entry. NRI records a removal
// only when it undoes another plugin's entry ("-plugin"); otherwise the
// owner it holds is whoever set the entry, not the remover, so the
// remover is unknown. Namespace removals are claimed like additions.
func (o owners) removal(field api.Field, key string) string {
	raw := o.f.GetCompound()[field.Key()].GetOwners()[key]
	if p, marked := api.IsMarkedForRemoval(raw); marked {
		return p
	}
	if field == api.Field_Namespace {
		return raw
	}
	return ""
}

// entry is the owner of a compound entry that was set or removed.
func (o owners) entry(field api.Field, key string, gone bool) string {
	if gone {
		return o.removal(field, key)
	}
	return o.compound(field, key)
}

const removed = "(removed)"

// adjustments lists what adj changes in the fields no other control
// judges, each with the plugin NRI says made the change. Mounts, devices,
// sysctls, seccomp and hooks are not here: their controls see them in
// the view itself.
func (src Source) adjustments(adj *api.ContainerAdjustment, own owners) []view.Adjustment {
	var out []view.Adjustment
	add := func(kind, field, value, by, forbidden string) {
		out = append(out, view.Adjustment{Kind: kind, Field: field, Value: value, By: by, Forbidden: forbidden})
	}
	for _, k := range slices.Sorted(maps.Keys(adj.GetAnnotations())) {
		key, gone := api.IsMarkedForRemoval(k)
		value := adj.GetAnnotations()[k]
		if gone {
			value = removed
		}
		forbidden := ""
		if view.IsProtectedAnnotation(key) {
			forbidden = "it says who the container is (or holds nri-guard's decision record), which the runtime wrapper and every other tool trust"
		}
		add("annotations", "annotations["+key+"]", value, own.entry(api.Field_Annotations, key, gone), forbidden)
	}
	for _, e := range adj.GetEnv() {
		key, gone := e.IsMarkedForRemoval()
		value := e.GetValue()
		if gone {
			value = removed
		}
		add("env", "env["+key+"]", value, own.entry(api.Field_Env, key, gone), "")
	}
	if args := adj.GetArgs(); len(args) > 0 {
		add("args", "args", strings.Join(args, " "), own.simple(api.Field_Args), "")
	}
	for _, r := range adj.GetRlimits() {
		add("rlimits", "rlimits["+r.GetType()+"]", fmt.Sprintf("soft %d, hard %d", r.GetSoft(), r.GetHard()), own.compound(api.Field_Rlimits, r.GetType()), "")
	}
	for _, d := range adj.GetCDIDevices() {
		add("cdiDevices", "CDI_devices["+d.GetName()+"]", d.GetName(), own.compound(api.Field_CdiDevices, d.GetName()), "")
	}
	lnx := adj.GetLinux()
	for _, ns := range lnx.GetNamespaces() {
		typ, gone := ns.IsMarkedForRemoval()
		value, forbidden := src.namespaceChange(typ, ns.GetPath(), gone)
		add("namespaces", "linux.namespaces["+typ+"]", value, own.entry(api.Field_Namespace, typ, gone), forbidden)
	}
	for _, k := range slices.Sorted(maps.Keys(lnx.GetNetDevices())) {
		name, gone := api.IsMarkedForRemoval(k)
		value := "moved into the container as " + lnx.GetNetDevices()[k].GetName()
		if gone {
			value = removed
		}
		add("netDevices", "linux.net_devices["+name+"]", value, own.entry(api.Field_LinuxNetDevices, name, gone), "")
	}
	out = append(out, resourceAdjustments("linux.resources", lnx.GetResources(), own)...)
	if p := lnx.GetCgroupsPath(); p != "" {
		add("cgroupsPath", "linux.cgroups_path", p, own.simple(api.Field_CgroupsPath), "")
	}
	if v := lnx.GetOomScoreAdj(); v != nil {
		add("oomScoreAdj", "linux.oom_score_adj", fmt.Sprint(v.GetValue()), own.simple(api.Field_OomScoreAdj), "")
	}
	if v := lnx.GetIoPriority(); v != nil {
		add("ioPriority", "linux.io_priority", v.String(), own.simple(api.Field_IoPriority), "")
	}
	if v := lnx.GetScheduler(); v != nil {
		add("scheduler", "linux.scheduler", v.String(), own.simple(api.Field_LinuxSched), "")
	}
	if v := lnx.GetRdt(); v.GetClosId() != nil || v.GetSchemata() != nil || v.GetEnableMonitoring() != nil || v.GetRemove() {
		for _, by := range nonEmpty(own.simple(api.Field_RdtClosID), own.simple(api.Field_RdtSchemata), own.simple(api.Field_RdtEnableMonitoring)) {
			add("rdt", "linux.rdt", v.String(), by, "")
		}
	}
	if v := lnx.GetMemoryPolicy(); v != nil {
		add("memoryPolicy", "linux.memory_policy", v.String(), own.simple(api.Field_MemoryPolicy), "")
	}
	return out
}

// namespaceChange spells a namespace entry out, and refuses outright the
// two no plugin may make: leaving the container in the node's mount
// namespace (it would see the node's root filesystem) or in the node's
// user namespace (its root would be the node's root).
func (src Source) namespaceChange(typ, path string, gone bool) (value, forbidden string) {
	value = path
	switch {
	case gone:
		value = removed + ": shares the node's"
	case path == "":
		value = "(a new one)"
	}
	if typ != "mount" && typ != "user" {
		return value, ""
	}
	if gone || view.IsHostNamespace(src.IsHostNamespace, typ, path) {
		return value, "the container would be in the node's " + typ + " namespace"
	}
	return value, ""
}

// resourceAdjustments lists the resource settings adj sets, one entry per
// owning plugin. Cgroup device rules (NRI v1 emulation) have no owner in
// NRI's records: they are listed with none, so no policy can trust them.
func resourceAdjustments(field string, r *api.LinuxResources, own owners) []view.Adjustment {
	var set []string
	var by []string
	note := func(name string, owner string) {
		set = append(set, name)
		by = append(by, owner)
	}
	mem, cpu := r.GetMemory(), r.GetCpu()
	simple := []struct {
		name  string
		isSet bool
		field api.Field
	}{
		{"memory.limit", mem.GetLimit() != nil, api.Field_MemLimit},
		{"memory.reservation", mem.GetReservation() != nil, api.Field_MemReservation},
		{"memory.swap", mem.GetSwap() != nil, api.Field_MemSwapLimit},
		{"memory.kernel", mem.GetKernel() != nil, api.Field_MemKernelLimit},
		{"memory.kernel_tcp", mem.GetKernelTcp() != nil, api.Field_MemTCPLimit},
		{"memory.swappiness", mem.GetSwappiness() != nil, api.Field_MemSwappiness},
		{"memory.disable_oom_killer", mem.GetDisableOomKiller() != nil, api.Field_MemDisableOomKiller},
		{"memory.use_hierarchy", mem.GetUseHierarchy() != nil, api.Field_MemUseHierarchy},
		{"cpu.shares", cpu.GetShares() != nil, api.Field_CPUShares},
		{"cpu.quota", cpu.GetQuota() != nil, api.Field_CPUQuota},
		{"cpu.period", cpu.GetPeriod() != nil, api.Field_CPUPeriod},
		{"cpu.realtime_runtime", cpu.GetRealtimeRuntime() != nil, api.Field_CPURealtimeRuntime},
		{"cpu.realtime_period", cpu.GetRealtimePeriod() != nil, api.Field_CPURealtimePeriod},
		{"cpu.cpus", cpu.GetCpus() != "", api.Field_CPUSetCPUs},
		{"cpu.mems", cpu.GetMems() != "", api.Field_CPUSetMems},
		{"blockio_class", r.GetBlockioClass() != nil, api.Field_BlockioClass},
		{"rdt_class", r.GetRdtClass() != nil, api.Field_RdtClass},
		{"pids", r.GetPids() != nil, api.Field_PidsLimit},
	}
	for _, s := range simple {
		if s.isSet {
			note(s.name, own.simple(s.field))
		}
	}
	for _, h := range r.GetHugepageLimits() {
		note("hugepage_limits["+h.GetPageSize()+"]", own.compound(api.Field_HugepageLimits, h.GetPageSize()))
	}
	for _, k := range slices.Sorted(maps.Keys(r.GetUnified())) {
		note("unified["+k+"]", own.compound(api.Field_CgroupsUnified, k))
	}
	for _, d := range r.GetDevices() {
		note(fmt.Sprintf("devices[allow=%t %s %d:%d %s]", d.GetAllow(), d.GetType(), d.GetMajor().GetValue(), d.GetMinor().GetValue(), d.GetAccess()), "")
	}
	var out []view.Adjustment
	for i, name := range set {
		out = append(out, view.Adjustment{Kind: "resources", Field: field + "." + name, Value: "(set)", By: by[i]})
	}
	return out
}

// UpdateAdjustments lists the resource updates of other containers that
// a CreateContainer reply asked for: kind "resources" of that container.
func UpdateAdjustments(updates []*api.ContainerUpdate, o *api.OwningPlugins) []view.Adjustment {
	var out []view.Adjustment
	for _, u := range updates {
		own := ownersOf(o, u.GetContainerId())
		field := "update[" + u.GetContainerId() + "].linux.resources"
		out = append(out, resourceAdjustments(field, u.GetLinux().GetResources(), own)...)
	}
	return out
}

func nonEmpty(items ...string) []string {
	var out []string
	for _, s := range items {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}
