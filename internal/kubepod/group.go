package kubepod

import "slices"

// assumedGID stands for the image's group when the pod sets no
// runAsGroup: a manifest does not show it.
const assumedGID = 65534

// group is the process gid, runAsGroup (container over pod), and the
// supplementary groups kubelet adds (supplementalGroups, fsGroup). With
// no runAsGroup the gid is the image's, which containerd takes from the
// image's /etc/passwd, and 0 when the image has no entry for the uid:
// assumed non-root here, and said so.
func (out *Container) group(psc *podSecurityContext, sc *securityContext) (uint32, []uint32) {
	gid := uint32(assumedGID)
	if g := firstSet(sc.RunAsGroup, psc.RunAsGroup); g != nil {
		gid = uint32(*g)
	} else {
		out.Assumed = append(out.Assumed, "gid: runAsGroup is not set; the image's group is assumed non-root (65534); containerd gives group 0 to an image without an /etc/passwd entry for the uid, which runAsRoot.rootGroup: refuse refuses on the node")
	}
	var extra []uint32
	for _, g := range append(slices.Clone(psc.SupplementalGroups), fsGroup(psc)...) {
		if !slices.Contains(extra, uint32(g)) {
			extra = append(extra, uint32(g))
		}
	}
	return gid, extra
}

func fsGroup(psc *podSecurityContext) []int64 {
	if psc.FSGroup == nil {
		return nil
	}
	return []int64{*psc.FSGroup}
}
