// Package cases is the end-to-end cases of e2e/cases/ as data: their
// schema, how they are read, how a case's expectation is picked for a
// containerd version, how a spec check is judged, how a case's CRI
// configuration becomes the Kubernetes pod the kubelet would turn into
// it, and the images the cases run. The crictl suite (e2e/) makes each
// case through CRI; the cluster bed (e2e/cluster/) applies the same case
// with kubectl, so one file says what must happen both ways.
package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// File is one e2e case: a pod, a container and what must happen.
// Adding a case is adding a file under e2e/cases/.
type File struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Policy and PolicyDir (paths relative to the repository) replace the
	// e2e default policy e2e/policies/policy.yaml and its drop-in
	// directory e2e/policies/policy.d. Cases with the same policy share
	// one containerd; each other policy costs one more containerd start.
	Policy    string `yaml:"policy"`
	PolicyDir string `yaml:"policyDir"`
	// Infra cases prove the harness itself: they pass with no guard
	// attached (NRI_GUARD_E2E_MODES=none) as well as with one.
	Infra       bool           `yaml:"infra"`
	Namespace   string         `yaml:"namespace"`
	HostNetwork bool           `yaml:"hostNetwork"`
	MinVersion  string         `yaml:"minVersion"`
	Pod         map[string]any `yaml:"pod"`
	Container   map[string]any `yaml:"container"`
	Expect      Expectation    `yaml:"expect"`
	// ExpectOn replaces Expect on containerd versions with this prefix
	// ("v2.1"): what the guard can promise differs by runtime.
	ExpectOn map[string]Expectation `yaml:"expectOn"`
	// Kubelet says how the case differs when its pod comes through the
	// API and the kubelet (e2e/cluster) rather than straight through CRI.
	Kubelet *KubeletDifference `yaml:"kubelet"`
}

// KubeletDifference is what changes for a case applied with kubectl:
// why (a field a pod cannot set, or one the kubelet sets itself), and
// the expectation that holds there instead.
type KubeletDifference struct {
	Why    string       `yaml:"why"`
	Expect *Expectation `yaml:"expect"`
}

// Expectation is what must happen to a case's container.
type Expectation struct {
	// Refused is a fragment of the error the CRI client must show (and,
	// through the kubelet, a Warning event of the pod).
	Refused  string         `yaml:"refused"`
	Running  bool           `yaml:"running"`
	Spec     []SpecCheck    `yaml:"spec"`
	Exec     []ExecCheck    `yaml:"exec"`
	Decision *DecisionCheck `yaml:"decision"`
	// Kubelet, only in a case's kubelet expectation: the kubelet stops
	// the pod itself before nri-guard is asked, with this reason
	// (SysctlForbidden, say).
	Kubelet string `yaml:"kubelet"`
}

// SpecCheck looks at the runtime spec containerd holds for the
// container (crictl inspect's info.runtimeSpec). Path is dotted; an
// array step may select by field: mounts[destination=/logs].options.
type SpecCheck struct {
	Path     string `yaml:"path"`
	Equals   any    `yaml:"equals"`
	Contains string `yaml:"contains"`
	Present  bool   `yaml:"present"`
	Absent   bool   `yaml:"absent"`
}

// ExecCheck runs a command in the container. In Contains and
// NotContains, ${HOST_NETNS} stands for the node's network namespace as
// readlink shows it (net:[4026531840]).
type ExecCheck struct {
	Cmd         []string `yaml:"cmd"`
	Equals      *string  `yaml:"equals"` // the whole output, trimmed
	Contains    string   `yaml:"contains"`
	NotContains string   `yaml:"notContains"`
	Fails       bool     `yaml:"fails"`
}

// DecisionCheck wants a decision log line for the case's pod (its
// sandbox or container c1) with Action and, if Control is set, a finding
// of that control (with Mode, if set).
type DecisionCheck struct {
	Action  string `yaml:"action"`
	Control string `yaml:"control"`
	Mode    string `yaml:"mode"`
}

// DefaultNamespace is a case's namespace when it names none.
const DefaultNamespace = "e2e"

// Load reads every case under dir, with unknown fields refused, the
// name defaulting to the file's and the namespace to DefaultNamespace.
func Load(dir string) ([]File, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []File
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var c File
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		if c.Name == "" {
			c.Name = strings.TrimSuffix(filepath.Base(f), ".yaml")
		}
		if c.Namespace == "" {
			c.Namespace = DefaultNamespace
		}
		// YAML's maps become JSON's, the shape CRI's configs take.
		c.Pod, c.Container = jsonRoundTrip(c.Pod), jsonRoundTrip(c.Container)
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cases under %s", dir)
	}
	return out, nil
}

func jsonRoundTrip(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	data, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}

// ExpectFor is what must happen on containerd version (v2.4.2), and
// false when the case does not apply to it (MinVersion).
func (c *File) ExpectFor(version string) (Expectation, bool) {
	if c.MinVersion != "" && semver.Compare(version, c.MinVersion) < 0 {
		return Expectation{}, false
	}
	for prefix, exp := range c.ExpectOn {
		if strings.HasPrefix(version, prefix) {
			return exp, true
		}
	}
	return c.Expect, true
}

// ExpectThroughKubelet is what must happen when the case's pod comes
// through the kubelet on containerd version.
func (c *File) ExpectThroughKubelet(version string) (Expectation, bool) {
	exp, ok := c.ExpectFor(version)
	if ok && c.Kubelet != nil && c.Kubelet.Expect != nil {
		exp = *c.Kubelet.Expect
	}
	return exp, ok
}

// PodName is the case's pod name on containerd version: the case's
// name and the version's digits, so runs on several versions never
// collide.
func (c *File) PodName(version string) string {
	return c.Name + "-" + strings.ReplaceAll(strings.TrimPrefix(version, "v"), ".", "")
}

// The e2e default policy and its drop-ins, relative to the repository.
const (
	DefaultPolicy    = "e2e/policies/policy.yaml"
	DefaultPolicyDir = "e2e/policies/policy.d"
)

// PolicyFiles is the policy file and drop-in directory ("" for none) the
// case runs under, relative to the repository: the default policy with
// its drop-ins unless the case names others.
func (c *File) PolicyFiles() (file, dir string) {
	if c.Policy == "" && c.PolicyDir == "" {
		return DefaultPolicy, DefaultPolicyDir
	}
	file, dir = c.Policy, c.PolicyDir
	if file == "" {
		file = DefaultPolicy
	}
	return file, dir
}
