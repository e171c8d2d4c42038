package controls

import (
	"path"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// HostMounts guards the host paths a mount reaches: a bind's source
// (however the bind is spelled) and every layer of an overlay. A path is
// sensitive when it is a sensitive path, lies below one, or is a
// directory above one: mounting /run hands over
// /run/k3s/containerd/containerd.sock.
type HostMounts struct{}

func (HostMounts) Meta() Meta {
	return Meta{
		ID: "host-mounts", Key: "hostMounts",
		Reads: "every host path a mount reaches: a bind's source however spelled (`type: none` + `rbind`), each overlay layer (`lowerdir`, `upperdir`, `workdir`)",
		Does:  "refuses, drops, or makes read-only mounts of sensitive host paths: the path, anything below it, or any directory above it (mounting `/run` exposes `/run/k3s/containerd/containerd.sock`); paths are normalised (`..`, trailing `/`, `/var/run` → `/run`). The pod's own kubelet volumes and containerd's per-sandbox hosts/hostname/resolv.conf/shm are recognised and left alone",
	}
}

func (HostMounts) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	hm := &s.HostMounts
	var paths []policy.HostPath
	return hostBinds(c, s, hm.Allow.Value, "host-mounts", "hostMounts.mode", hm.Mode.Source, func(m view.Mount, hp view.MountHostPath, src string) (Finding, bool) {
		if paths == nil {
			paths = append(append(paths, hm.Paths.Value...), hm.ExtraPaths.Value...)
		}
		return sensitiveMount(m, hp, src, hm, paths)
	})
}

// hostBinds runs judge on every host path a mount reaches (a bind's
// source, an overlay's layers: view.Mount.HostPaths) that is not the
// pod's own and not allowed, with the path cleaned. A kubelet subPath
// mount whose host path is unknown is refused under rule.
func hostBinds(c *view.Container, s *policy.Controls, allow []policy.HostPath, control, rule string, ruleSource policy.Source,
	judge func(m view.Mount, hp view.MountHostPath, src string) (Finding, bool)) []Finding {
	var out []Finding
	for _, m := range c.Mounts {
		if m.Unresolved != "" {
			out = append(out, unresolvedSubPath(control, m, rule, ruleSource))
			continue
		}
		for _, hp := range m.HostPaths() {
			src := policy.CleanHostPath(hp.Path)
			if runtimeManaged(c, m, src, s) || within(src, allow) {
				continue
			}
			f, ok := judge(m, hp, src)
			if !ok {
				continue
			}
			if c.Pod.UIDDoubt != "" && inPodDir(c, src, s) {
				f.Problem += " (not credited as the pod's own volume: " + c.Pod.UIDDoubt + ")"
			}
			out = append(out, f)
			if f.Rewrite != nil {
				break // dropping the mount, or making it read-only, settles its other paths too
			}
		}
	}
	return out
}

// sensitiveMount judges one host path of a mount against the path lists.
func sensitiveMount(m view.Mount, hp view.MountHostPath, src string, hm *policy.HostMounts, paths []policy.HostPath) (Finding, bool) {
	f := Finding{
		Control: "host-mounts",
		Field:   hostPathField(m, hp),
		Value:   src,
		By:      m.AddedBy,
		Fix:     exceptionFix("hostMounts.allow: [" + src + "]"),
		Grant:   &policy.Grant{Key: "hostMounts.allow", Add: []string{src}},
	}
	if hit, relation, ok := nearest(src, paths); ok {
		if hm.Action.Value == policy.MountReadOnly && hp.ReadOnly {
			return f, false // what readOnly asks for is already so
		}
		f.Problem = relation + " " + hit + ", denied"
		f.Rule, f.Source = "hostMounts.paths", hm.Paths.Source
		if hm.ExtraPaths.Set && isListed(hit, hm.ExtraPaths.Value) {
			f.Rule, f.Source = "hostMounts.extraPaths", hm.ExtraPaths.Source
		}
		return withAction(f, m, hp.ReadOnly, hm.Action), true
	}
	if hp.ReadOnly {
		return f, false
	}
	if hit, relation, ok := nearest(src, hm.ReadOnlyPaths.Value); ok {
		f.Problem = relation + " " + hit + ", which may only be mounted read-only"
		f.Rule, f.Source = "hostMounts.readOnlyPaths", hm.ReadOnlyPaths.Source
		return withAction(f, m, hp.ReadOnly, hm.Action), true
	}
	return f, false
}

// withAction turns the configured action into a verdict. Under refuse
// and drop, a read-only mount of a denied path is treated like a writable
// one: reading /etc/shadow or connecting to a socket is enough. readOnly
// says whether the host path is already read-only through this mount.
func withAction(f Finding, m view.Mount, readOnly bool, action policy.Setting[policy.MountAction]) Finding {
	switch {
	case action.Value == policy.MountDrop:
		f.Verdict, f.Rewrite = Rewrite, &view.Rewrite{Kind: view.DropMount, Mount: m}
		f.Problem += " (the mount is removed)"
	case action.Value == policy.MountReadOnly && !readOnly:
		f.Verdict, f.Rewrite = Rewrite, &view.Rewrite{Kind: view.ReadOnlyMount, Mount: m}
		f.Problem += " (the mount is made read-only)"
	default:
		f.Verdict = Refuse
	}
	return f
}

// nearest finds the listed path most closely related to src: the source
// itself, the deepest listed path it contains, or the closest listed path
// above it. "/" only matches itself: below "/" is everything.
func nearest(src string, list []policy.HostPath) (hit, relation string, ok bool) {
	best := -1
	for _, lp := range list {
		p := policy.CleanHostPath(string(lp))
		rel, score := "", 0
		switch {
		case p == src:
			rel, score = "is", 1<<20
		case isBelow(p, src):
			rel, score = "contains", len(p)
		case p != "/" && isBelow(src, p):
			rel, score = "is inside", len(p)
		default:
			continue
		}
		if score > best {
			hit, relation, ok, best = p, rel, true, score
		}
	}
	return hit, relation, ok
}

// isBelow reports whether p lies strictly below dir.
func isBelow(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, dir+"/")
}

func within(src string, list []policy.HostPath) bool {
	for _, lp := range list {
		p := policy.CleanHostPath(string(lp))
		if p == src || isBelow(src, p) {
			return true
		}
	}
	return false
}

func isListed(p string, list []policy.HostPath) bool {
	for _, lp := range list {
		if policy.CleanHostPath(string(lp)) == p {
			return true
		}
	}
	return false
}

// runtimeManaged recognises the mounts kubelet and containerd add to
// every pod: the pod's own volumes under kubelet's pods/<pod uid>/
// directory, its namespace's local-path volumes, and the hosts,
// hostname, resolv.conf and shm files that containerd keeps per sandbox.
// They live below sensitive paths (/var/lib/kubelet, /var/lib/rancher)
// but belong to this very pod.
func runtimeManaged(c *view.Container, m view.Mount, src string, s *policy.Controls) bool {
	if c.Pod.UIDDoubt == "" && inPodDir(c, src, s) {
		return true
	}
	if ownLocalVolume(src, string(s.HostMounts.LocalStorage.Value), c.Pod.Namespace) {
		return true
	}
	if !view.PathElement(c.Pod.ID) {
		return false
	}
	leaf, ok := sandboxFiles[m.Destination]
	return ok && strings.HasSuffix(src, "/io.containerd.grpc.v1.cri/sandboxes/"+c.Pod.ID+"/"+leaf)
}

// inPodDir reports whether src lies in kubelet's directory for the UID
// the pod claims. Whether the claim is credited is UIDDoubt's to say.
func inPodDir(c *view.Container, src string, s *policy.Controls) bool {
	kubeletRoot := string(s.HostMounts.KubeletRoot.Value)
	return view.PathElement(c.Pod.UID) && kubeletRoot != "" &&
		isBelow(src, path.Join(policy.CleanHostPath(kubeletRoot), "pods", c.Pod.UID))
}

// sandboxFiles maps the container paths containerd fills from its
// per-sandbox directory to the file names there.
var sandboxFiles = map[string]string{
	"/etc/hosts":       "hosts",
	"/etc/hostname":    "hostname",
	"/etc/resolv.conf": "resolv.conf",
	"/dev/shm":         "shm",
}

// ownLocalVolume reports whether src is, or lies in, a local-path volume
// directory of the pod's namespace: <storage>/pvc-<uid>_<namespace>_<claim>.
// Namespace and claim names cannot hold "_", so the name splits one way.
func ownLocalVolume(src, storage, namespace string) bool {
	if storage == "" || !view.PathElement(namespace) {
		return false
	}
	storage = policy.CleanHostPath(storage)
	if !isBelow(src, storage) {
		return false
	}
	dir, _, _ := strings.Cut(strings.TrimPrefix(src, storage+"/"), "/")
	parts := strings.Split(dir, "_")
	return len(parts) == 3 && strings.HasPrefix(parts[0], "pvc-") && parts[1] == namespace && parts[2] != ""
}

// unresolvedSubPath refuses a kubelet subPath mount whose host path the
// node's mount table does not tell: it could show any host directory.
func unresolvedSubPath(control string, m view.Mount, rule string, source policy.Source) Finding {
	return Finding{
		Control: control, Field: "mounts[" + m.Destination + "].source", Value: m.Via,
		Problem: "a kubelet subPath mount whose host path cannot be told (" + m.Unresolved + ")", By: m.AddedBy,
		Rule: rule, Source: source, Verdict: Refuse,
		Fix: "judge it where nri-guard reads the node's mount table (the plugin and the runtime wrapper do), or add an exception for this pod that sets " + rule + ": off",
	}
}
