package view

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// readIDMappings fills in the id mappings of the process's user
// namespace: for one joined by path, those the kernel shows for it when
// read is given (the spec's own may say anything: runc takes the
// namespace as it is), else the spec's.
func readIDMappings(p *Process, spec *specs.Spec, read func(string) (uid, gid []specs.LinuxIDMapping, err error)) {
	if spec.Linux == nil {
		return
	}
	i := slices.IndexFunc(spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
	if i < 0 {
		return
	}
	p.UIDMappings, p.GIDMappings = spec.Linux.UIDMappings, spec.Linux.GIDMappings
	path := spec.Linux.Namespaces[i].Path
	if path == "" {
		return
	}
	if read == nil {
		if len(p.UIDMappings) == 0 || len(p.GIDMappings) == 0 {
			p.IDMapsUnknown = "it joins the user namespace " + path + ", whose id mappings are not known here"
		}
		return
	}
	uid, gid, err := read(path)
	if errors.Is(err, ErrNotProcPath) && len(p.UIDMappings) > 0 && len(p.GIDMappings) > 0 {
		// containerd pins a pod's user namespace in a file of its own
		// (.../sandboxes/<id>/pinned-namespaces/user) that no process
		// holds yet, and writes the namespace's mappings beside the
		// path. runc (1.2 and later) refuses a spec whose mappings differ
		// from those of the namespace it joins, so the spec's are the
		// namespace's.
		return
	}
	if err != nil {
		p.UIDMappings, p.GIDMappings = nil, nil
		p.IDMapsUnknown = fmt.Sprintf("it joins the user namespace %s, whose id mappings cannot be read (%v)", path, err)
		return
	}
	p.UIDMappings, p.GIDMappings = uid, gid
}

// procNamespacePath is how containerd (and the wrapper) name a pod's
// user namespace: through a process of the sandbox.
var procNamespacePath = regexp.MustCompile(`^/proc/(\d+)(/task/\d+)?/ns/user$`)

// ErrNotProcPath: the namespace path does not go through a process, so
// its mappings cannot be read from /proc.
var ErrNotProcPath = errors.New("not a /proc/<pid>/ns/user path")

// ProcIDMaps reads the id mappings of the user namespace at nsPath from
// the uid_map and gid_map of the process the path goes through.
func ProcIDMaps(nsPath string) (uid, gid []specs.LinuxIDMapping, err error) {
	m := procNamespacePath.FindStringSubmatch(nsPath)
	if m == nil {
		return nil, nil, ErrNotProcPath
	}
	dir := strings.TrimSuffix(nsPath, "/ns/user")
	if uid, err = readIDMap(dir + "/uid_map"); err != nil {
		return nil, nil, err
	}
	gid, err = readIDMap(dir + "/gid_map")
	return uid, gid, err
}

// readIDMap parses a /proc/<pid>/uid_map or gid_map: lines of "inside
// outside count".
func readIDMap(path string) ([]specs.LinuxIDMapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []specs.LinuxIDMapping
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var n [3]uint64
		for i := range n {
			if len(f) != 3 {
				return nil, fmt.Errorf("%s: malformed line %q", path, line)
			}
			if n[i], err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, fmt.Errorf("%s: malformed line %q", path, line)
			}
		}
		out = append(out, specs.LinuxIDMapping{ContainerID: uint32(n[0]), HostID: uint32(n[1]), Size: uint32(n[2])})
	}
	return out, nil
}

// UserNamespaceProblem says why the process's user namespace does not
// keep container root away from the node's privileged ids, or "" when
// it does: every uid and gid mapping must start at or above minHostID,
// and none may map host id 0. The setting names the floor in the text.
func (p *Process) UserNamespaceProblem(minHostID uint32, setting string) string {
	switch {
	case p.UserNamespaceGiven:
		return "" // the wrapper's own pool, checked against the floor when it is configured
	case !p.UserNamespace:
		return "it has no user namespace of its own"
	case p.IDMapsUnknown != "":
		return p.IDMapsUnknown
	}
	for _, maps := range []struct {
		field string
		m     []specs.LinuxIDMapping
	}{{"linux.uidMappings", p.UIDMappings}, {"linux.gidMappings", p.GIDMappings}} {
		if len(maps.m) == 0 {
			return "its user namespace has no " + maps.field
		}
		for _, m := range maps.m {
			what := fmt.Sprintf("%s maps container id %d to host id %d (%d ids)", maps.field, m.ContainerID, m.HostID, m.Size)
			if m.HostID == 0 {
				return what + ", and host id 0 is the node's root"
			}
			if m.HostID < minHostID {
				return fmt.Sprintf("%s, below %s %d, where the node's own users are", what, setting, minHostID)
			}
		}
	}
	return ""
}
