package check_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nri-guard/nri-guard/internal/apply"
	"github.com/nri-guard/nri-guard/internal/check"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/kubepod"
	"github.com/nri-guard/nri-guard/internal/policy"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The Pod Security Standards' own fixtures (k8s.io/pod-security-admission,
// test/testdata/{baseline,restricted}/VERSION/{pass,fail}) run through
// `nri-guard check` under the matching preset, on a node that enforces
// AppArmor and SELinux (elsewhere those settings have no effect).
const (
	psaModule  = "k8s.io/pod-security-admission@v0.37.2"
	psaVersion = "v1.37"
)

// classControl is the control that must act on a fail fixture of each
// class (the file name without its number).
var classControl = map[string]string{
	"privileged":                "privileged",
	"hostnamespaces":            "host-namespaces",
	"capabilities_baseline":     "capabilities",
	"capabilities_restricted":   "capabilities",
	"allowprivilegeescalation":  "no-new-privileges",
	"apparmorprofile":           "lsm",
	"selinuxoptions":            "lsm",
	"procmount":                 "masked-paths",
	"procmount_restricted":      "masked-paths",
	"seccompprofile_baseline":   "seccomp",
	"seccompprofile_restricted": "seccomp",
	"sysctls":                   "sysctls",
	"runasnonroot":              "run-as-root",
	"runasuser":                 "run-as-root",
	"windowshostprocess":        "host-namespaces",
}

// podOnly lists fixture classes whose violation lives only in the pod
// object: nothing of it reaches a container's spec, so the node cannot
// see it, and what it guards against happens outside the runtime.
var podOnly = map[string]string{
	"hostports":                  "a hostPort is a CNI port mapping on the node; the container's spec does not change",
	"hostprobesandhostlifecycle": "kubelet runs probes and lifecycle handlers itself; their host field never reaches the runtime",
	"restrictedvolumes":          "the volume type is kubelet's business; the container sees a bind mount of kubelet's directory for the pod (a mounted hostPath is judged by host-path-volumes)",
	"hostpathvolumes":            "the fixtures' hostPath volumes are mounted by no container, so no container can reach them (a mounted one is refused by host-path-volumes)",
}

// notHandled lists single fail fixtures ("level/file") the node does not
// act on for their violation, with the reason.
var notHandled = map[string]string{
	"baseline/capabilities_baseline2.yaml": "adds \"chown\": the Standard refuses the spelling; containerd reads it as CAP_CHOWN, which baseline allows, so the spec holds nothing forbidden",
}

// passRewrites lists what may rewrite a pass fixture ("kind/control"),
// per level, with the reason: nri-guard reads the spec, where some
// requests the Standard allows look like ones it forbids.
var passRewrites = map[string]map[string]string{
	"baseline": {
		"pod sandbox/capabilities":         "containerd gives the pause container its default capabilities; CAP_NET_RAW is dropped",
		"pod sandbox/seccomp":              "an unset pod seccompProfile leaves the pause container unconfined; the default profile is injected",
		"container/capabilities":           "CAP_NET_RAW from containerd's defaults looks like an added one; it is dropped",
		"init container/capabilities":      "as for containers",
		"container/seccomp":                "an unset seccompProfile (allowed by baseline) and Unconfined look the same; the default profile is injected",
		"init container/seccomp":           "as for containers",
		"container/masked-paths":           "kubelet's default masked paths lack /proc/interrupts, which containerd masks by default: it is added (and procMount: Unmasked in a user namespace, allowed since v1.35, gets its masks back)",
		"init container/masked-paths":      "as for containers",
		"container/read-only-root":         "not in the Standard; the node's default forces it and a preset never weakens the node",
		"init container/read-only-root":    "as for containers",
		"container/no-new-privileges":      "not in the baseline level; the node's default forces it and a preset never weakens the node",
		"init container/no-new-privileges": "as for containers",
	},
	"restricted": {
		"container/read-only-root":      "not in the Standard; the node's default forces it and a preset never weakens the node",
		"init container/read-only-root": "as for containers",
		"container/masked-paths":        "kubelet's default masked paths lack /proc/interrupts, which containerd masks by default: it is added",
		"init container/masked-paths":   "as for containers",
		"pod sandbox/capabilities":      "containerd gives the pause container its default capabilities; the restricted allowlist drops them",
		"pod sandbox/seccomp":           "a pod that sets seccomp per container only leaves the pause container unconfined; the default profile is injected",
	},
}

// outcome is what the node does with one fixture pod.
type outcome struct {
	refused, kubeletRefuses bool
	// safe: every rewritten container is allowed as it is after the rewrite.
	safe bool
	// controls maps "kind/control" to whether it rewrote (false) or refused (true).
	controls map[string]bool
}

func TestPodSecurityStandardsFixtures(t *testing.T) {
	dir := psaFixtures(t)
	used := map[string]bool{}
	for _, level := range []string{"baseline", "restricted"} {
		t.Run(level, func(t *testing.T) {
			eng := presetEngine(t, true, policy.PresetName(level))
			root := filepath.Join(dir, level, psaVersion)
			var n counts
			for _, f := range fixtures(t, root, "pass") {
				n.pass++
				n.passRewritten += checkPass(t, level, f, judge(t, eng, f), used)
			}
			for _, f := range fixtures(t, root, "fail") {
				n.fail++
				n.add(checkFail(t, level, f, judge(t, eng, f), used))
			}
			t.Logf("%s %s: %d pass fixtures allowed (%d of them with rewrites), %d fail fixtures: %d refused, %d rewritten to safe, %d not visible in a container spec, %d not handled",
				level, psaVersion, n.pass, n.passRewritten, n.fail, n.refused, n.rewritten, n.podOnly, n.notHandled)
		})
	}
	checkStale(t, used)
}

// checkStale fails on list entries that no fixture needs any more, so the
// lists say what is true of this version.
func checkStale(t *testing.T, used map[string]bool) {
	for key := range notHandled {
		if !used[key] {
			t.Errorf("notHandled lists %s, which is no fail fixture any more: remove it", key)
		}
	}
	for level, keys := range passRewrites {
		for key := range keys {
			if !used[level+" "+key] {
				t.Errorf("passRewrites[%s] lists %s, which rewrites no pass fixture any more: remove it", level, key)
			}
		}
	}
	for class := range podOnly {
		if !used[class] {
			t.Errorf("podOnly lists class %s, which has no fail fixture any more: remove it", class)
		}
	}
}

type counts struct {
	pass, passRewritten, fail, refused, rewritten, podOnly, notHandled int
}

func (n *counts) add(kind string) {
	switch kind {
	case "refused":
		n.refused++
	case "rewritten":
		n.rewritten++
	case "podOnly":
		n.podOnly++
	default:
		n.notHandled++
	}
}

// checkPass: a pass fixture runs; anything rewritten is on the list.
func checkPass(t *testing.T, level, file string, o outcome, used map[string]bool) int {
	name := "pass/" + filepath.Base(file)
	if o.refused || o.kubeletRefuses {
		t.Errorf("%s/%s is refused: %v", level, name, o.controls)
	}
	rewritten := 0
	for key := range o.controls {
		if _, ok := passRewrites[level][key]; !ok {
			t.Errorf("%s/%s: %s rewrites it, which passRewrites does not expect", level, name, key)
		}
		used[level+" "+key] = true
		rewritten = 1
	}
	return rewritten
}

// checkFail: a fail fixture whose violation the spec shows is refused, or
// rewritten to safe by the control for its class; the others are listed.
func checkFail(t *testing.T, level, file string, o outcome, used map[string]bool) string {
	base, cls := filepath.Base(file), class(file)
	if reason, ok := notHandled[level+"/"+base]; ok {
		used[level+"/"+base] = true
		t.Logf("not handled: %s/%s: %s", level, base, reason)
		if o.refused {
			t.Errorf("%s/%s is listed as not handled but is refused now: remove it from notHandled", level, base)
		}
		return "notHandled"
	}
	if _, ok := podOnly[cls]; ok {
		used[cls] = true
		if o.refused {
			t.Errorf("%s/%s (class %s) is listed as pod-only but is refused now: remove the class from podOnly", level, base, cls)
		}
		return "podOnly"
	}
	want, ok := classControl[cls]
	if !ok {
		t.Errorf("%s/%s: new fixture class %q: map it to a control, or list it with a reason", level, base, cls)
		return ""
	}
	if !actedOn(o, want) {
		t.Errorf("%s/%s: control %s did not act on it (outcome %v)", level, base, want, o.controls)
	}
	switch {
	case o.refused:
		return "refused"
	case o.safe && len(o.controls) > 0:
		return "rewritten"
	}
	t.Errorf("%s/%s is neither refused nor rewritten to safe", level, base)
	return ""
}

func actedOn(o outcome, control string) bool {
	for key := range o.controls {
		if strings.HasSuffix(key, "/"+control) {
			return true
		}
	}
	return false
}

func fixtures(t *testing.T, root, outcome string) []string {
	files, err := filepath.Glob(filepath.Join(root, outcome, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s fixtures under %s", outcome, root)
	}
	return files
}

// judge runs one fixture through the check path.
func judge(t *testing.T, eng *engine.Engine, file string) outcome {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	results, err := check.JudgeManifest(file, data, eng, kubepod.Options{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	o := outcome{safe: true, controls: map[string]bool{}}
	for _, r := range results {
		o.kubeletRefuses = o.kubeletRefuses || r.Container.KubeletRefuses != ""
		for _, f := range r.Decision.Enforced() {
			key := r.Container.Kind + "/" + f.Control
			o.controls[key] = o.controls[key] || f.Verdict == controls.Refuse
		}
		switch r.Decision.Action {
		case engine.Refuse:
			o.refused = true
		case engine.Rewrite:
			o.safe = o.safe && safeAfter(eng, r)
		}
	}
	return o
}

// safeAfter applies the rewrites to a copy of the spec and judges the
// result again: a rewrite is safe when nothing is left to change.
func safeAfter(eng *engine.Engine, r check.PodResult) bool {
	var spec specs.Spec
	raw, _ := json.Marshal(r.Container.Spec)
	_ = json.Unmarshal(raw, &spec)
	// The user namespace is the wrapper's step; offline it changes nothing.
	noUserNamespace := apply.Spec{UserNamespace: func(*specs.Spec) error { return nil }}
	if err := noUserNamespace.Apply(&spec, r.Decision.Rewrites); err != nil {
		return false
	}
	c := *r.Container
	c.Spec = &spec
	d := eng.Decide(c.View())
	return d.Action == engine.Allow
}

var fixtureNumber = regexp.MustCompile(`\d+\.yaml$`)

func class(file string) string { return fixtureNumber.ReplaceAllString(filepath.Base(file), "") }

// psaFixtures finds the module's fixtures, downloading the module through
// the Go module proxy when it is not in the module cache yet.
func psaFixtures(t *testing.T) string {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to fetch " + psaModule)
	}
	out, err := exec.Command(goTool, "mod", "download", "-json", psaModule).Output()
	var info struct{ Dir, Error string }
	if err != nil || json.Unmarshal(out, &info) != nil || info.Dir == "" {
		t.Skipf("cannot download %s (offline?): %v %s; the conformance test needs it", psaModule, err, info.Error)
	}
	return filepath.Join(info.Dir, "test", "testdata")
}
