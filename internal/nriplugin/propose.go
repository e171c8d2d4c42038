package nriplugin

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// Proposals is what `nri-guard report --propose` gets: a policy drop-in
// of exceptions, each proved to let its workloads run under enforce, and
// the refused workloads no exception is proposed for, with why.
type Proposals struct {
	DropIn      string        `json:"dropIn"`
	Proposed    int           `json:"proposed"`
	NotProposed []NotProposed `json:"notProposed,omitempty"`
}

// NotProposed is a refused container left to the admin.
type NotProposed struct {
	Container string `json:"container"` // namespace/pod/container
	Why       string `json:"why"`
}

// ProposalFile is the name the proposals are proved under.
const ProposalFile = "report --propose"

// proposal is one exception being built: the workload it selects, the
// grants its containers need, and the containers it must let run.
type proposal struct {
	namespace, pods, owner, container, image string
	// start is what the exception the workload has now sets (less its
	// audit modes); under is what the workload is judged by now.
	start      policy.Controls
	under      *policy.Controls
	grants     []policy.Grant
	allows     []string
	containers []*view.Container
}

// Propose builds, for every running container enforce would refuse if it
// were created now, the narrowest exception that lets it run: its
// namespace, a pod-name pattern from its owner, its container name and
// full image, and only the settings its refusals need. Each exception is
// proved by judging its containers again under the policy with the
// drop-in added; one that does not prove out is not proposed.
func (p *Plugin) Propose() (Proposals, error) {
	st := p.state.Load()
	if st == nil {
		return Proposals{}, fmt.Errorf("no policy loaded yet")
	}
	pol := st.engine.Policy()
	var out Proposals
	byKey := map[string]*proposal{}
	var order []string
	for _, e := range p.containers.list() {
		c := p.view(st, e.pod, e.ctr)
		d := st.engine.Decide(c)
		if underEnforce(&d) != string(engine.Refuse) {
			continue
		}
		pr := proposalFor(pol, c, &d, st.runtime.ImageReported)
		if why := finalReason(&d); why != "" {
			out.NotProposed = append(out.NotProposed, NotProposed{Container: containerName(c), Why: why})
			continue
		}
		key := strings.Join([]string{pr.namespace, pr.pods, pr.container, pr.image}, "\x00")
		if have, ok := byKey[key]; ok {
			have.merge(pr)
			continue
		}
		byKey[key] = pr
		order = append(order, key)
	}
	slices.Sort(order)
	props := make([]*proposal, 0, len(order))
	for _, k := range order {
		props = append(props, byKey[k])
	}
	// Prove, drop what does not prove out, and prove the rest again: an
	// exception can only change how its own workloads are judged, so
	// the second round settles it.
	for round := 0; round < 2; round++ {
		doc, err := document(props)
		if err != nil {
			return Proposals{}, err
		}
		failed, err := prove(st.engine, doc, props)
		if err != nil {
			return Proposals{}, err
		}
		if len(failed) == 0 {
			out.DropIn, out.Proposed = string(doc), len(props)
			return out, nil
		}
		out.NotProposed = append(out.NotProposed, failed...)
		props = slices.DeleteFunc(props, func(pr *proposal) bool {
			return slices.ContainsFunc(failed, func(n NotProposed) bool { return n.Container == containerName(pr.containers[0]) })
		})
	}
	return Proposals{}, fmt.Errorf("proposals do not prove out after two rounds")
}

// proposalFor is the exception one refused container needs.
func proposalFor(pol *policy.Policy, c *view.Container, d *engine.Decision, imageReported bool) *proposal {
	pods, owner := ownerPattern(c.Pod.Name, c.Pod.Labels)
	pr := &proposal{namespace: c.Pod.Namespace, pods: pods, owner: owner, container: c.Name, under: &pol.Controls, containers: []*view.Container{c}}
	if imageReported {
		pr.image = c.Image
	}
	if d.Exception != nil {
		// The new exception is more specific, so it replaces this one
		// for the workload: it starts from what this one sets.
		pr.start, pr.under = d.Exception.ForEnforce(), &d.Exception.Effective
		pr.allows = append(pr.allows, "keeps what exception "+d.Exception.Name+" ("+d.Exception.Source.String()+") sets, which selects this workload now, less its audit modes")
	}
	for _, f := range d.Findings {
		if f.Verdict != controls.Refuse {
			continue
		}
		g := f.Grant
		text := fmt.Sprintf("allows %s = %s (%s)", f.Field, f.Value, f.Problem)
		if g == nil {
			key, _, _ := strings.Cut(f.Rule, ".")
			g = &policy.Grant{Key: key + ".mode", Value: string(policy.Audit)}
			text += "; no narrower setting exists: audit lets every " + key + " finding of this workload through and logs it"
		}
		pr.grants = append(pr.grants, *g)
		pr.allows = append(pr.allows, text)
	}
	return pr
}

// finalReason is why no exception should be proposed, if a refusal says.
func finalReason(d *engine.Decision) string {
	for _, f := range d.Findings {
		if f.Verdict == controls.Refuse && f.Final != "" {
			return f.Text() + " — not proposed: " + f.Final
		}
	}
	return ""
}

func (pr *proposal) merge(other *proposal) {
	pr.grants = append(pr.grants, other.grants...)
	for _, a := range other.allows {
		if !slices.Contains(pr.allows, a) {
			pr.allows = append(pr.allows, a)
		}
	}
	pr.containers = append(pr.containers, other.containers...)
}

func (pr *proposal) exception() (policy.Exception, error) {
	settings, err := policy.Granting(pr.start, pr.under, pr.grants)
	if err != nil {
		return policy.Exception{}, err
	}
	m := policy.Match{Namespaces: []policy.Glob{policy.Glob(pr.namespace)}, Pods: []policy.Glob{policy.Glob(pr.pods)}, Containers: []policy.Glob{policy.Glob(pr.container)}}
	if pr.image != "" {
		m.Images = []policy.ImagePattern{policy.ImagePattern(pr.image)}
	}
	return policy.Exception{Name: proposalName(pr), Match: m, Controls: settings}, nil
}

func (pr *proposal) comment() []string {
	lines := []string{fmt.Sprintf("%s/%s container %s: %s; %d running container(s) refused now under enforce", pr.namespace, pr.pods, pr.container, pr.owner, len(pr.containers))}
	if pr.image == "" {
		lines = append(lines, "  not pinned to an image: this runtime does not report images to NRI (containerd 2.4 does)")
	}
	for _, a := range pr.allows {
		lines = append(lines, "  "+a)
	}
	return lines
}

var nameUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

func proposalName(pr *proposal) string {
	base := strings.TrimRight(strings.NewReplacer("*", "", "?", "").Replace(pr.pods), "-")
	return "proposed-" + strings.Trim(nameUnsafe.ReplaceAllString(strings.ToLower(pr.namespace+"-"+base+"-"+pr.container), "-"), "-")
}

func document(props []*proposal) ([]byte, error) {
	list := make([]policy.Proposal, 0, len(props))
	names := map[string]int{}
	for _, pr := range props {
		exc, err := pr.exception()
		if err != nil {
			return nil, err
		}
		// Two images of one container need two exceptions: a later
		// exception of the same name would replace the earlier.
		if names[exc.Name]++; names[exc.Name] > 1 {
			exc.Name += fmt.Sprintf("-%d", names[exc.Name])
		}
		list = append(list, policy.Proposal{Exception: exc, Comment: pr.comment()})
	}
	header := []string{
		"Proposed by nri-guard report --propose: one exception per workload that the policy",
		"in force would refuse under enforce, each the narrowest that lets it run (its namespace,",
		"its owner's pod names, its container and image, only the settings its refusals need).",
		"Each was proved by judging the running containers again with this file added.",
		"Review every exception before you install this file in the policy directory.",
	}
	return policy.ProposalDocument(header, list)
}

// prove judges every proposal's containers under the policy with doc
// added; a container that is still refused fails its proposal.
func prove(eng *engine.Engine, doc []byte, props []*proposal) ([]NotProposed, error) {
	pol, err := eng.Policy().WithDropIn(policy.Input{Name: ProposalFile, Data: doc})
	if err != nil {
		return nil, fmt.Errorf("the proposal does not load: %w", err)
	}
	proved := eng.WithPolicy(pol)
	var failed []NotProposed
	for _, pr := range props {
		for _, c := range pr.containers {
			d := proved.Decide(c)
			if underEnforce(&d) != string(engine.Refuse) {
				continue
			}
			why := finalReason(&d)
			if why == "" {
				var left []string
				for _, f := range d.Findings {
					if f.Verdict == controls.Refuse {
						left = append(left, f.Text())
					}
				}
				why = "still refused with the proposed exception (a more specific exception wins?): " + strings.Join(left, "; ")
			}
			failed = append(failed, NotProposed{Container: containerName(pr.containers[0]), Why: why})
			break
		}
	}
	return failed, nil
}

func containerName(c *view.Container) string {
	return c.Pod.Namespace + "/" + c.Pod.Name + "/" + c.Name
}

// ownerPattern is the narrowest pod-name glob that covers the pod's
// siblings, from the names Kubernetes' controllers give their pods, and
// a description of the owner. Labels only suggest the shape: the pattern
// must match the pod's own name, else the exact name is used (a person
// reviews every proposal; the pattern never trusts a label).
func ownerPattern(name string, labels map[string]string) (pattern, owner string) {
	try := func(pattern, owner string) (string, string, bool) {
		return pattern, owner, policy.Glob(pattern).Match(name)
	}
	if h := labels["pod-template-hash"]; h != "" {
		if base, ok := strings.CutSuffix(name[:max(0, len(name)-6)], "-"+h); ok && len(name) > 6 {
			if p, o, ok := try(base+"-*-?????", "the pods of Deployment "+base); ok {
				return p, o
			}
		}
	}
	if labels["statefulset.kubernetes.io/pod-name"] == name {
		if i := strings.LastIndex(name, "-"); i > 0 {
			if p, o, ok := try(name[:i]+"-*", "the pods of StatefulSet "+name[:i]); ok {
				return p, o
			}
		}
	}
	if labels["controller-revision-hash"] != "" && labels["pod-template-generation"] != "" && len(name) > 6 {
		if p, o, ok := try(name[:len(name)-6]+"-?????", "the pods of DaemonSet "+name[:len(name)-6]); ok {
			return p, o
		}
	}
	job := labels["batch.kubernetes.io/job-name"]
	if job == "" {
		job = labels["job-name"]
	}
	if job != "" {
		if m := cronJobName.FindStringSubmatch(job); m != nil {
			if p, o, ok := try(m[1]+"-*-?????", "the pods of CronJob "+m[1]); ok {
				return p, o
			}
		}
		if p, o, ok := try(job+"-?????", "the pods of Job "+job); ok {
			return p, o
		}
	}
	return name, "pod " + name
}

// cronJobName: a CronJob names its Jobs <cronjob>-<scheduled minute>.
var cronJobName = regexp.MustCompile(`^(.+)-[0-9]{8,}$`)
