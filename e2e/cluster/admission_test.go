//go:build e2e_cluster

package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
	"gopkg.in/yaml.v3"
)

// The anchor nri-guard is compared with: Pod Security admission, in the
// apiserver, enforcing one Pod Security Standard per namespace.
const (
	psaBaselineNS   = "psa-baseline"
	psaRestrictedNS = "psa-restricted"
	// guardNS has no Pod Security label (the bed's default is
	// privileged): what runs or is refused there is nri-guard's answer.
	guardNS = "guard-only"
)

// psaVersion is the pod-security-admission module whose fixtures are
// applied: the Kubernetes version of the bed.
var psaVersion = "v0." + strings.TrimPrefix(kubeVersion, "v1.")

// fixture is one PSS fixture pod: its level and whether the Standard
// passes it there, the check it exercises, and the verdicts.
type fixture struct {
	Name, Level, Check string
	Pass               bool
	Pod                map[string]any
	Doc                string // Pod as JSON, what kubectl is given
	Baseline           string // admission in psaBaselineNS: admitted or forbidden
	Restricted         string // admission in psaRestrictedNS
	Guard              string // nri-guard on the node: runs, runs (rewritten: ...), refused (...), or what the kubelet did
}

// TestAdmissionSideBySide applies every Pod Security Standards fixture
// of k8s.io/pod-security-admission (the bed's Kubernetes version) with
// kubectl: to a namespace enforcing baseline and one enforcing
// restricted (a server-side dry run: admission's verdict), and as a real
// pod to a namespace admission leaves alone, where nri-guard under the
// installer's policy decides. It writes the table of the three verdicts
// (e2e/cluster/admission-table.md, kept in the README) and fails when a
// pod the Standard refuses at baseline runs on the node unchanged: the
// baseline checks are what the installer's defaults hold too, by refusal
// or rewrite. Every other difference is what the table's notes explain.
func TestAdmissionSideBySide(t *testing.T) {
	defer count(t)
	fixtures := loadFixtures(t)
	admissionNamespaces(t, guardNS)

	admission(t, fixtures, psaBaselineNS, func(f *fixture, v string) { f.Baseline = v })
	admission(t, fixtures, psaRestrictedNS, func(f *fixture, v string) { f.Restricted = v })
	// The kubelet runs at most 110 pods (K3s keeps the default).
	for start := 0; start < len(fixtures); start += 50 {
		runOnNode(t, fixtures[start:min(start+50, len(fixtures))])
	}

	for _, f := range fixtures {
		wantPSA := "admitted"
		if !f.Pass {
			wantPSA = "forbidden"
		}
		if got := map[string]string{"baseline": f.Baseline, "restricted": f.Restricted}[f.Level]; got != wantPSA && got != "invalid" {
			t.Errorf("%s: Pod Security admission at %s said %s, the fixture says %s", f.Name, f.Level, got, wantPSA)
		}
		// What baseline forbids and nri-guard's defaults cover must be
		// refused, or rewritten by the control that covers it.
		if control, ok := guardCovers[f.Check]; ok && f.Baseline == "forbidden" &&
			!strings.HasPrefix(f.Guard, "refused") && !strings.HasPrefix(f.Guard, "not run") && !strings.Contains(f.Guard, control) {
			t.Errorf("%s: baseline forbids it (%s) and the node ran it without %s: %s", f.Name, f.Check, control, f.Guard)
		}
	}
	table := admissionTable(fixtures)
	if err := os.WriteFile(filepath.Join(repoRoot, "e2e", "cluster", "admission-table.md"), []byte(table), 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("%d fixtures; table in e2e/cluster/admission-table.md", len(fixtures))
}

// admissionNamespaces makes the namespaces enforcing baseline and
// restricted, and the others named, which admission leaves alone; all
// are removed when the test ends.
func admissionNamespaces(t *testing.T, others ...string) {
	levels := map[string]string{psaBaselineNS: "baseline", psaRestrictedNS: "restricted"}
	for _, ns := range others {
		levels[ns] = ""
	}
	var names []string
	for ns, level := range levels {
		labels := ""
		if level != "" {
			labels = fmt.Sprintf("\n  labels: {pod-security.kubernetes.io/enforce: %s, pod-security.kubernetes.io/enforce-version: latest}", level)
		}
		mustApply(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s%s\n", ns, labels))
		names = append(names, ns)
	}
	// Gone before the next test makes them again (a namespace being
	// deleted refuses new objects); deleted together, they go in one wait.
	t.Cleanup(func() {
		args := append([]string{"delete", "namespace", "--ignore-not-found", "--wait=true", "--timeout=120s"}, names...)
		if _, err := node.kubectl(args...); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

// loadFixtures reads the fixtures of both levels, as pods of the bed:
// the busybox image running as nobody (the Standard's restricted pods ask
// runAsNonRoot, which the kubelet checks against the image's user), each
// init container exiting, each container sleeping, no grace period.
func loadFixtures(t *testing.T) []*fixture {
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/pod-security-admission@"+psaVersion).Output()
	var info struct{ Dir string }
	if err != nil || json.Unmarshal(out, &info) != nil || info.Dir == "" {
		t.Fatalf("cannot download k8s.io/pod-security-admission@%s: %v", psaVersion, err)
	}
	minor := "v1." + strings.SplitN(strings.TrimPrefix(kubeVersion, "v1."), ".", 2)[0]
	var fixtures []*fixture
	digits := regexp.MustCompile(`[0-9]+$`)
	for _, level := range []string{"baseline", "restricted"} {
		for _, result := range []string{"pass", "fail"} {
			files, _ := filepath.Glob(filepath.Join(info.Dir, "test", "testdata", level, minor, result, "*.yaml"))
			for _, file := range files {
				base := strings.TrimSuffix(filepath.Base(file), ".yaml")
				if strings.Contains(base, "windows") {
					continue // a Windows pod: no Linux node runs it
				}
				var pod map[string]any
				data, err := os.ReadFile(file)
				if err != nil || yaml.Unmarshal(data, &pod) != nil {
					t.Fatalf("fixture %s: %v", file, err)
				}
				f := &fixture{Level: level, Pass: result == "pass", Check: digits.ReplaceAllString(base, ""),
					Name: strings.ReplaceAll(level[:1]+"-"+result+"-"+base, "_", "-")}
				f.Pod = asBedPod(pod, f.Name, 20000+len(fixtures))
				doc, _ := json.Marshal(f.Pod)
				f.Doc = string(doc)
				fixtures = append(fixtures, f)
			}
		}
	}
	if len(fixtures) < 100 {
		t.Fatalf("only %d fixtures found under %s", len(fixtures), info.Dir)
	}
	return fixtures
}

// hostPort is the pod's own, so fixtures asking for one do not wait on
// each other for the node's port; what they test is that they ask.
func asBedPod(pod map[string]any, name string, hostPort int) map[string]any {
	meta, _ := pod["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["name"] = name // the annotations (AppArmor's among them) stay
	pod["metadata"] = meta
	spec, _ := pod["spec"].(map[string]any)
	spec["terminationGracePeriodSeconds"] = 0
	spec["restartPolicy"] = "Never"
	for key, command := range map[string][]string{"containers": {"sleep", "3600"}, "initContainers": {"true"}} {
		list, _ := spec[key].([]any)
		for _, c := range list {
			m := c.(map[string]any)
			m["image"], m["imagePullPolicy"], m["command"] = busyboxNobodyRef, "Never", command
			ports, _ := m["ports"].([]any)
			for _, p := range ports {
				if pm, _ := p.(map[string]any); pm != nil && pm["hostPort"] != nil {
					pm["hostPort"] = hostPort
				}
			}
		}
	}
	return pod
}

// admission asks the apiserver, by one server-side dry run of all the
// fixtures, whether the namespace admits each.
func admission(t *testing.T, fixtures []*fixture, ns string, set func(*fixture, string)) {
	names, docs := make([]string, len(fixtures)), make([]string, len(fixtures))
	for i, f := range fixtures {
		names[i], docs[i] = f.Name, f.Doc
	}
	for i, v := range admissionVerdicts(t, ns, names, docs) {
		set(fixtures[i], v.word)
	}
}

// verdict is admission's answer for one pod: admitted, forbidden (with
// the Standard's reasons) or invalid (the API's validation, before any
// admission: e.g. procMount Unmasked without hostUsers: false).
type verdict struct{ word, reasons string }

// String is the verdict with the Standard's checks it names, without
// their details.
func (v verdict) String() string {
	if v.reasons == "" {
		return v.word
	}
	return v.word + ": " + strings.TrimSpace(detail.ReplaceAllString(v.reasons, ""))
}

var detail = regexp.MustCompile(`\s*\([^()]*\)`)

// forbiddenLine is kubectl's line for a pod admission refuses; its
// reasons follow the level.
var forbiddenLine = regexp.MustCompile(`pods "([^"]+)" is forbidden: violates PodSecurity "[^"]+": (.*)`)

// admissionVerdicts is one server-side dry run of the pods (docs, named
// names) into ns: kubectl reports every object, created or refused, and
// goes on after a refusal.
func admissionVerdicts(t *testing.T, ns string, names, docs []string) []verdict {
	out, err := node.kubectlIn(strings.Join(docs, "\n---\n"), "apply", "--dry-run=server", "-n", ns, "-f", "-")
	text := out
	if err != nil {
		text += "\n" + err.Error()
	}
	forbidden := map[string]string{}
	for _, m := range forbiddenLine.FindAllStringSubmatch(text, -1) {
		forbidden[m[1]] = m[2]
	}
	verdicts := make([]verdict, len(names))
	for i, name := range names {
		reasons, isForbidden := forbidden[name]
		switch {
		case strings.Contains(text, "pod/"+name+" created (server dry run)"):
			verdicts[i] = verdict{word: "admitted"}
		case isForbidden:
			verdicts[i] = verdict{"forbidden", reasons}
		case strings.Contains(text, `Pod "`+name+`" is invalid: `):
			verdicts[i] = verdict{word: "invalid"}
		default:
			t.Fatalf("%s in %s: no verdict in kubectl's answer:\n%s", name, ns, text)
		}
	}
	return verdicts
}

// runOnNode creates the fixtures as pods where admission lets all pass,
// waits until each is decided (running, refused by nri-guard, or stopped
// by the kubelet), records nri-guard's verdict and removes the pods.
func runOnNode(t *testing.T, batch []*fixture) {
	batch = slices.DeleteFunc(slices.Clone(batch), func(f *fixture) bool {
		if f.Baseline == "invalid" {
			f.Guard = "not created (the API refuses it as invalid)"
			return true
		}
		return false
	})
	var docs []string
	for _, f := range batch {
		docs = append(docs, f.Doc)
	}
	mustApplyIn(t, guardNS, strings.Join(docs, "\n---\n"))
	pending := slices.Clone(batch)
	testhost.PollUntil(90*time.Second, 2*time.Second, func() bool {
		pending = slices.DeleteFunc(pending, func(f *fixture) bool {
			f.Guard = guardVerdict(guardNS, f.Name)
			return f.Guard != ""
		})
		return len(pending) == 0
	})
	for _, f := range pending {
		s, _ := getPod(guardNS, f.Name)
		f.Guard = "not run: still " + s.Phase
		if w := lastWarning(guardNS, f.Name); w != "" {
			f.Guard += " (" + w + ")"
		}
	}
	if _, err := node.kubectl("delete", "pods", "-n", guardNS, "--all", "--grace-period=0", "--force", "--wait=true", "--timeout=120s"); err != nil {
		t.Logf("removing the batch: %v", err)
	}
}

func mustApplyIn(t *testing.T, ns, manifest string) {
	t.Helper()
	if _, err := node.kubectlIn(manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply -n %s: %v", ns, err)
	}
}

// guardVerdict is nri-guard's answer for a fixture pod, or "" while the
// pod is not decided: refused (the controls of its refusals), running
// (with the controls whose rewrites it got), or what the kubelet did
// instead of running it (its waiting reason or the pod's).
func guardVerdict(ns, pod string) string {
	var refused, rewritten []string
	for _, d := range decisions(ns, pod) {
		for _, f := range d.Findings {
			switch {
			case d.Action == "refuse" && f.Action == "refuse":
				refused = appendNew(refused, f.Control)
			case f.Action == "rewrite":
				rewritten = appendNew(rewritten, f.Control)
			}
		}
	}
	if len(refused) > 0 {
		return "refused (" + strings.Join(refused, ", ") + ")"
	}
	for _, d := range decisions(ns, pod) {
		if d.Action == "refuse" {
			// A step after the decision refused it (the user namespace,
			// writing the spec): its message says which.
			_, why, _ := strings.Cut(d.Message, ": refused: ")
			if _, rest, ok := strings.Cut(why, ": "); ok {
				why = rest // after the workload's name
			}
			return "refused (" + firstWords(why, 12) + ")"
		}
	}
	out, err := node.kubectl("get", "pod", "-n", ns, pod, "-o", "json")
	if err != nil {
		return ""
	}
	var p struct {
		Status struct {
			podStatus
			Reason string `json:"reason"`
		} `json:"status"`
	}
	if json.Unmarshal([]byte(out), &p) != nil {
		return ""
	}
	s := p.Status.podStatus
	if p.Status.Reason != "" {
		return "not run: kubelet " + p.Status.Reason
	}
	if s.Phase == "Failed" {
		for _, c := range s.ContainerStatuses {
			if x := c.State.Terminated; x != nil && x.ExitCode != 0 {
				return fmt.Sprintf("not run: %s, exit %d (%s)", x.Reason, x.ExitCode, firstWords(x.Message, 12))
			}
		}
		return "not run: Failed"
	}
	for _, c := range s.ContainerStatuses {
		if w := c.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return "not run: kubelet " + w.Reason
		}
	}
	if !running(s) {
		// The kubelet or the scheduler gave up on it for now, before any
		// container was made (no user namespace here, a missing claim).
		if w := lastWarning(ns, pod); strings.HasPrefix(w, "FailedScheduling") || strings.HasPrefix(w, "FailedCreatePodSandBox") || strings.HasPrefix(w, "Failed:") {
			return "not run: " + w
		}
		return ""
	}
	if len(rewritten) > 0 {
		return "runs (rewritten: " + strings.Join(rewritten, ", ") + ")"
	}
	return "runs"
}

// lastWarning is the reason and message of a pod's last Warning event.
// podRef is the kubelet's `(pod: "NAME_NS(UID)", ` in a message, and
// containerID a container's ID: left out, so the table does not change
// with every run's IDs.
var (
	podRef      = regexp.MustCompile(`\(pod: "[^"]*", `)
	containerID = regexp.MustCompile(`"[0-9a-f]{64}"`)
)

func lastWarning(ns, pod string) string {
	last := ""
	for _, e := range podEvents(ns, pod) {
		if e.Type == "Warning" {
			msg := containerID.ReplaceAllString(podRef.ReplaceAllString(e.Message, "("), "ID")
			last = e.Reason + ": " + firstWords(msg, 12)
		}
	}
	return last
}

func firstWords(s string, n int) string {
	words := strings.Fields(strings.ReplaceAll(s, "|", "/"))
	if len(words) > n {
		words = append(words[:n], "...")
	}
	return strings.Join(words, " ")
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// guardCovers names, per Pod Security check, the nri-guard control that
// holds the node to it under the installer's defaults (by refusal or by
// rewrite); guardLeaves says why the others differ.
var guardCovers = map[string]string{
	"capabilities_baseline":   "capabilities",
	"seccompprofile_baseline": "seccomp",
	"privileged":              "refused",
	"hostnamespaces":          "refused",
	"sysctls":                 "refused",
}

var guardLeaves = map[string]string{
	"capabilities_baseline":      "nri-guard judges the capability sets the runtime grants, not the manifest's words: a lowercase `chown` is containerd's CAP_CHOWN, a default; NET_RAW is granted and then dropped by the wrapper (capabilities.allow); a capability the runtime would not grant is refused (capabilities_baseline3)",
	"seccompprofile_baseline":    "an Unconfined profile is replaced by the node's filter (seccomp.unconfined: inject) instead of refused",
	"hostpathvolumes":            "the defaults refuse the node's sensitive paths (hostMounts.paths: /, /etc, /var/lib/rancher, the runtime sockets, ...), not every hostPath; the fixtures' /a and /dev/null are not on that list; the restricted preset's hostPathVolumes refuses all",
	"restrictedvolumes":          "a hostPath volume is judged by where it points (above); other volume types are the kubelet's and reach the container as bind mounts of the kubelet's own directories",
	"hostports":                  "a host port is the CNI plugin's (portmap), in no field of the OCI spec or NRI's view",
	"hostprobesandhostlifecycle": "probes and lifecycle handlers with a host are run by the kubelet from the node, not by the container: nothing in the container's spec shows them",
	"apparmorprofile":            "this node has no AppArmor: the kubelet refuses a pod that asks for a profile, an unconfined one is the node's state anyway",
	"selinuxoptions":             "this node has no SELinux: the labels reach no kernel; the runtime refuses a few option shapes itself",
	"procmount":                  "an Unmasked /proc needs hostUsers: false (the API refuses it otherwise); the guard masks it again (maskedPaths puts the runtime's masked and read-only paths back), so the pod runs with a masked /proc instead of being refused",
	"procmount_restricted":       "as procmount",
	"allowprivilegeescalation":   "no_new_privs is forced by the wrapper (noNewPrivileges: force) instead of refused",
	"capabilities_restricted":    "restricted's drop ALL: the defaults keep the baseline capability set (the restricted preset drops the rest)",
	"runasnonroot":               "the installer's policy lets a container run as root, but remapped: where the kernel passes the installer's probe (this bed's does), every pod gets a user namespace of its own and uid 0 inside is an unprivileged uid of the pool on the node (runAsRoot remap, userNamespaces enable); the restricted preset refuses root; the kubelet itself refuses runAsNonRoot against a root image",
	"runasuser":                  "as runasnonroot",
	"seccompprofile_restricted":  "a missing profile is given the node's filter (inject) instead of refused; a localhost profile must exist on the node",
}

// admissionTable is the Markdown table of the verdicts, one row per
// fixture, then the notes that explain where nri-guard and admission
// differ, per check.
func admissionTable(fixtures []*fixture) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- written by e2e/cluster TestAdmissionSideBySide (Kubernetes %s, containerd %s); do not edit -->\n", kubeVersion, containerdVersion)
	b.WriteString("| fixture | PSA baseline | PSA restricted | nri-guard (installer policy, enforce) |\n|---|---|---|---|\n")
	sorted := slices.Clone(fixtures)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Check < sorted[j].Check })
	for _, f := range sorted {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Name, f.Baseline, f.Restricted, f.Guard)
	}
	b.WriteString("\nWhere nri-guard's answer differs from admission's, per check:\n\n")
	checks := make([]string, 0, len(guardLeaves))
	for c := range guardLeaves {
		checks = append(checks, c)
	}
	sort.Strings(checks)
	for _, c := range checks {
		fmt.Fprintf(&b, "- `%s`: %s.\n", c, guardLeaves[c])
	}
	return b.String()
}
