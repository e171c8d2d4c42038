package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// guardExec checks a process started in a running container: its working
// directory (CVE-2024-21626 came through exec too) and its capabilities,
// which are cut down to what the container itself runs with. containerd
// builds an exec's process from the container's spec as the client sent
// it, before the wrapper dropped anything, so without this an exec would
// get dropped capabilities back.
func guardExec(inv invocation) string {
	procPath := inv.local("--process", "-p")
	if procPath == "" {
		if cwd := inv.local("--cwd"); controls.BadWorkingDir(cwd) {
			return cwdRefusal(inv, "--cwd", cwd)
		}
		return ""
	}
	raw, err := os.ReadFile(procPath)
	if err != nil {
		return "nri-guard-runc: refused exec: cannot read its process spec: " + err.Error()
	}
	var p specs.Process
	if err := json.Unmarshal(raw, &p); err != nil {
		return "nri-guard-runc: refused exec: bad process spec: " + err.Error()
	}
	if controls.BadWorkingDir(p.Cwd) {
		return cwdRefusal(inv, "process.cwd", p.Cwd)
	}
	bounding, ok := containerBounding(inv)
	if !ok || p.Capabilities == nil {
		return ""
	}
	if narrowCapabilities(p.Capabilities, bounding) {
		data, err := json.Marshal(&p)
		if err == nil {
			err = os.WriteFile(procPath, data, 0o600)
		}
		if err != nil {
			return "nri-guard-runc: refused exec: cannot write its process spec: " + err.Error()
		}
	}
	return ""
}

func cwdRefusal(inv invocation, field, cwd string) string {
	return "nri-guard-runc: refused exec in " + inv.containerID() + ": working-directory: " + field + " = " + cwd + ": " + controls.WorkingDirProblem
}

// narrowCapabilities removes from every set what bounding lacks and
// reports whether anything changed.
func narrowCapabilities(c *specs.LinuxCapabilities, bounding []string) bool {
	changed := false
	for _, set := range []*[]string{&c.Bounding, &c.Effective, &c.Inheritable, &c.Permitted, &c.Ambient} {
		n := len(*set)
		*set = slices.DeleteFunc(*set, func(name string) bool { return !slices.Contains(bounding, name) })
		changed = changed || len(*set) != n
	}
	return changed
}

// containerBounding reads the container's bounding set from its bundle,
// found through runc's state (the "bundle=" label).
func containerBounding(inv invocation) ([]string, bool) {
	st, err := readRuncState(runcRoot(inv), inv.containerID())
	if err != nil {
		return nil, false
	}
	for _, l := range st.Config.Labels {
		if bundle, ok := strings.CutPrefix(l, "bundle="); ok {
			spec, _, err := readSpec(filepath.Join(bundle, "config.json"))
			if err != nil || spec.Process == nil || spec.Process.Capabilities == nil {
				return nil, false
			}
			return spec.Process.Capabilities.Bounding, true
		}
	}
	return nil, false
}
