package wrapper

import (
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/record"
	"github.com/nri-guard/nri-guard/internal/view"
)

// The wrapper learns who a container is from what no NRI plugin can
// forge. An app container's identity is in its signed record (v2): the
// annotations, which a later plugin can rewrite, only fill in what the
// record does not carry. A pod sandbox has no record (NRI never shows
// sandboxes), so its claim rests on containerd's annotations and on the
// shape of its spec, which a plugin cannot bend into a sandbox's.

// adoptIdentity replaces the annotation identity of c with the record's
// and says where the two differ (a plugin rewrote the annotations).
func adoptIdentity(c *view.Container, rec record.Record) string {
	c.Sandbox = false
	if rec.Version < 3 {
		c.Pod.UIDDoubt = "the decision record (written before an upgrade) does not vouch for the pod UID"
	}
	if rec.Version < 2 {
		return "decision record v1 (written before an upgrade) carries no identity: it is read from the spec's annotations"
	}
	id := rec.Identity
	signed := []struct {
		name      string
		have      *string
		fromCRI   string
		fromSigns string
	}{
		{"sandbox id", &c.Pod.ID, c.Pod.ID, id.SandboxID},
		{"namespace", &c.Pod.Namespace, c.Pod.Namespace, id.Namespace},
		{"pod", &c.Pod.Name, c.Pod.Name, id.Pod},
		{"container", &c.Name, c.Name, id.Container},
		{"image", &c.Image, c.Image, id.Image},
	}
	var differ []string
	for _, f := range signed {
		if f.fromCRI != f.fromSigns {
			differ = append(differ, f.name+" "+quote(f.fromCRI)+" (record: "+quote(f.fromSigns)+")")
		}
		*f.have = f.fromSigns
	}
	if rec.Version >= 3 {
		switch {
		case id.PodUID == "":
			c.Pod.UIDDoubt = "the NRI plugin did not vouch for the pod UID (another live sandbox claimed it)"
		case id.PodUID != c.Pod.UID:
			differ = append(differ, "pod uid "+quote(c.Pod.UID)+" (record: "+quote(id.PodUID)+")")
			c.Pod.UID = id.PodUID
		}
	}
	if c.Annotations[view.AnnotationContainerType] != record.TypeContainer {
		differ = append(differ, "container type "+quote(c.Annotations[view.AnnotationContainerType])+" (record: container)")
	}
	if len(differ) == 0 {
		return ""
	}
	return "the spec's identity annotations differ from the signed record, which was used: " + strings.Join(differ, ", ")
}

func quote(s string) string { return "\"" + s + "\"" }

// joinedPath reports a namespace joined through another process: how
// containerd puts an app container into its sandbox's namespaces. A
// sandbox creates its namespaces (or, for the network, joins the one CNI
// set up under /run/netns); it never joins a process's.
func joinedPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/proc/")
	pid, _, ok2 := strings.Cut(rest, "/ns/")
	return ok && ok2 && pid != "" && strings.Trim(pid, "0123456789") == ""
}

// sandboxImpostor reports why a container that claims to be a pod
// sandbox (and has no record) is an app container relabelled, or "".
// NRI before v0.10 (containerd 2.1) cannot adjust namespaces, and later
// versions refuse such an adjustment in validation, so a plugin cannot
// hide this shape.
func sandboxImpostor(c *view.Container) string {
	for _, ns := range c.Namespaces {
		if joinedPath(ns.Path) {
			return "it joins the " + ns.Type + " namespace " + ns.Path + " of another process, as an app container joins its sandbox's"
		}
	}
	return ""
}

// impostorDecision refuses a forged sandbox claim.
func impostorDecision(c *view.Container, why string) engine.Decision {
	return engine.Decision{Container: c, Action: engine.Refuse, Findings: []controls.Finding{{
		Control: "identity", Field: "annotations[" + view.AnnotationContainerType + "]", Value: "sandbox",
		Problem: "claims to be a pod sandbox, but " + why + ": its annotations were rewritten (by an NRI plugin?) to take a sandbox's treatment",
		Rule:    "nri-guard-runc (pod sandbox identity)", Source: policy.BuiltIn,
		Verdict: controls.Refuse, Mode: policy.Enforce,
		Fix: "find the NRI plugin that rewrites io.kubernetes.cri.* annotations and remove it",
	}}}
}
