package controls

import (
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// HostPathVolumes refuses every bind mount of a host path that is not the
// pod's own: the Pod Security Standards forbid hostPath volumes at the
// baseline level, whatever the path. host-mounts guards the sensitive
// paths on every node; this control is the Standard's stricter rule, off
// by default and turned on by the baseline and restricted presets. The
// pod's own volumes (kubelet's pods/<uid>/ directory) and containerd's
// per-sandbox hosts/hostname/resolv.conf/shm are not host paths in this
// sense and pass, as they do in host-mounts.
type HostPathVolumes struct{}

func (HostPathVolumes) Meta() Meta {
	return Meta{
		ID: "host-path-volumes", Key: "hostPathVolumes",
		Reads: "mounts",
		Does:  "refuses every bind mount of a host path that is not the pod's own (kubelet's volume directories, containerd's per-sandbox files), read-only or not: the Standards' HostPath Volumes. `allow` lists paths for exceptions",
	}
}

func (HostPathVolumes) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	hp := &s.HostPathVolumes
	return hostBinds(c, s, hp.Allow.Value, "host-path-volumes", "hostPathVolumes.mode", hp.Mode.Source, func(m view.Mount, path view.MountHostPath, src string) (Finding, bool) {
		return Finding{
			Control: "host-path-volumes", Field: hostPathField(m, path), Value: src,
			Problem: "a host path that is not the pod's own volume", By: m.AddedBy,
			Rule: "hostPathVolumes.mode", Source: hp.Mode.Source, Verdict: Refuse,
			Fix:   exceptionFix("hostPathVolumes.allow: [" + src + "]"),
			Grant: &policy.Grant{Key: "hostPathVolumes.allow", Add: []string{src}},
		}, true
	})
}
