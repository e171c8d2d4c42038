package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/runcstate"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// guardExec checks a process started in a running container. containerd
// builds an exec's process from the container's spec as the client sent
// it, before the wrapper rewrote it: without this an exec would get back
// what the container lost (no_new_privs off, so a setuid binary regains
// root; dropped capabilities). So the process gets what the container's
// final spec (its bundle's config.json) has: no_new_privs when the
// container has it, each capability set cut to the container's same set,
// the container's AppArmor profile, SELinux label, rlimits, OOM score and
// scheduling; and it is refused
// when it would run as another user, has a working directory that
// escapes (CVE-2024-21626 came through exec too), or when the
// container's spec cannot be read.
func guardExec(inv invocation) string {
	flags, err := parseExecFlags(inv.args[inv.verbAt+1:])
	if err != nil {
		return "nri-guard-runc: refused exec: " + err.Error()
	}
	procPath := flags.last("process")
	if procPath == "" {
		if cwd := flags.last("cwd"); controls.BadWorkingDir(cwd) {
			return cwdRefusal(flags.id, "--cwd", cwd)
		}
		ctr, err := containerProcess(inv, flags.id)
		if err != nil {
			return execSpecRefusal(flags.id, err)
		}
		return judgeExecFlags(flags, ctr)
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
		return cwdRefusal(flags.id, "process.cwd", p.Cwd)
	}
	ctr, err := containerProcess(inv, flags.id)
	if err != nil {
		return execSpecRefusal(flags.id, err)
	}
	if msg := judgeExecUser(flags.id, "process.user", p.User, ctr.User); msg != "" {
		return msg
	}
	if confineExecProcess(&p, ctr) {
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

func cwdRefusal(id, field, cwd string) string {
	return "nri-guard-runc: refused exec in " + id + ": working-directory: " + field + " = " + cwd + ": " + controls.WorkingDirProblem
}

func execSpecRefusal(id string, err error) string {
	return fmt.Sprintf("nri-guard-runc: refused exec in %s: cannot read the container's final spec (%v), so the exec cannot be given what the container runs with", id, oneLine(err.Error()))
}

// confineExecProcess gives p what the container runs with and reports
// whether anything changed.
func confineExecProcess(p *specs.Process, ctr *specs.Process) bool {
	changed := false
	if ctr.NoNewPrivileges && !p.NoNewPrivileges {
		p.NoNewPrivileges, changed = true, true
	}
	if p.ApparmorProfile != ctr.ApparmorProfile || p.SelinuxLabel != ctr.SelinuxLabel {
		p.ApparmorProfile, p.SelinuxLabel, changed = ctr.ApparmorProfile, ctr.SelinuxLabel, true
	}
	if p.Capabilities != nil && narrowCapabilities(p.Capabilities, containerCapabilities(ctr)) {
		changed = true
	}
	// Limits the container's process got (rlimits, OOM score, scheduling
	// and I/O priority): raising them takes privileges the exec borrows
	// from runc, not from the container.
	if !reflect.DeepEqual(p.Rlimits, ctr.Rlimits) || !reflect.DeepEqual(p.OOMScoreAdj, ctr.OOMScoreAdj) ||
		!reflect.DeepEqual(p.Scheduler, ctr.Scheduler) || !reflect.DeepEqual(p.IOPriority, ctr.IOPriority) {
		p.Rlimits, p.OOMScoreAdj, p.Scheduler, p.IOPriority, changed = ctr.Rlimits, ctr.OOMScoreAdj, ctr.Scheduler, ctr.IOPriority, true
	}
	return changed
}

func containerCapabilities(ctr *specs.Process) *specs.LinuxCapabilities {
	if ctr.Capabilities == nil {
		return &specs.LinuxCapabilities{} // the container has none, nor does its exec
	}
	return ctr.Capabilities
}

// narrowCapabilities removes from each of c's sets what the container's
// same set lacks and reports whether anything changed.
func narrowCapabilities(c, ctr *specs.LinuxCapabilities) bool {
	changed := false
	pairs := []struct{ set, allowed *[]string }{
		{&c.Bounding, &ctr.Bounding}, {&c.Effective, &ctr.Effective}, {&c.Inheritable, &ctr.Inheritable},
		{&c.Permitted, &ctr.Permitted}, {&c.Ambient, &ctr.Ambient},
	}
	for _, s := range pairs {
		n := len(*s.set)
		*s.set = slices.DeleteFunc(*s.set, func(name string) bool { return !slices.Contains(*s.allowed, name) })
		changed = changed || len(*s.set) != n
	}
	return changed
}

// judgeExecUser refuses an exec that would run as a uid, gid or
// supplementary group the container does not run with: a container that
// runs as uid 1000 must not get a uid 0 shell, nor a container without
// group 0 a process in it.
func judgeExecUser(id, field string, u, ctr specs.User) string {
	switch {
	case u.UID != ctr.UID:
		return execUserRefusal(id, field+".uid", strconv.FormatUint(uint64(u.UID), 10), fmt.Sprintf("the container runs as uid %d", ctr.UID))
	case u.GID != ctr.GID:
		return execUserRefusal(id, field+".gid", strconv.FormatUint(uint64(u.GID), 10), fmt.Sprintf("the container runs as gid %d", ctr.GID))
	}
	for _, g := range u.AdditionalGids {
		if g != ctr.GID && !slices.Contains(ctr.AdditionalGids, g) {
			return execUserRefusal(id, field+".additionalGids", strconv.FormatUint(uint64(g), 10),
				fmt.Sprintf("the container's supplementary groups are %v", ctr.AdditionalGids))
		}
	}
	return ""
}

func execUserRefusal(id, field, value, why string) string {
	return fmt.Sprintf("nri-guard-runc: refused exec in %s: exec-user: %s = %s: an exec must run as the container's own user, and %s; "+
		"exec without a user of its own, or give the container that user", id, field, value, why)
}

// judgeExecFlags refuses the flags that would give a process built from
// the container's final spec (runc's way without --process) more than
// the container has.
func judgeExecFlags(f execFlags, ctr *specs.Process) string {
	caps := containerCapabilities(ctr)
	for _, c := range f.values["cap"] {
		// runc adds it to the bounding, effective, permitted (and ambient) sets.
		if !slices.Contains(caps.Bounding, c) || !slices.Contains(caps.Effective, c) || !slices.Contains(caps.Permitted, c) ||
			(caps.Inheritable != nil && !slices.Contains(caps.Ambient, c)) {
			return execFlagRefusal(f.id, "--cap", c, "the container does not hold this capability")
		}
	}
	if ctr.NoNewPrivileges && f.bools["no-new-privs"] == "false" {
		return execFlagRefusal(f.id, "--no-new-privs", "false", "the container runs with no_new_privs")
	}
	if v := f.last("apparmor"); v != "" && v != ctr.ApparmorProfile {
		return execFlagRefusal(f.id, "--apparmor", v, fmt.Sprintf("the container's AppArmor profile is %q", ctr.ApparmorProfile))
	}
	if v := f.last("process-label"); v != "" && v != ctr.SelinuxLabel {
		return execFlagRefusal(f.id, "--process-label", v, fmt.Sprintf("the container's SELinux label is %q", ctr.SelinuxLabel))
	}
	u := ctr.User
	if v := f.last("user"); v != "" {
		uid, gid, hasGID := strings.Cut(v, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return execFlagRefusal(f.id, "--user", v, "want UID[:GID] in numbers")
		}
		u.UID = uint32(n)
		if hasGID {
			if n, err = strconv.ParseUint(gid, 10, 32); err != nil {
				return execFlagRefusal(f.id, "--user", v, "want UID[:GID] in numbers")
			}
			u.GID = uint32(n)
		}
	}
	for _, v := range f.values["additional-gids"] {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return execFlagRefusal(f.id, "--additional-gids", v, "want a number")
		}
		u.AdditionalGids = append(slices.Clone(u.AdditionalGids), uint32(n))
	}
	return judgeExecUser(f.id, "--user/--additional-gids", u, ctr.User)
}

func execFlagRefusal(id, flag, value, why string) string {
	return fmt.Sprintf("nri-guard-runc: refused exec in %s: exec-flags: %s = %s: %s, and an exec gets no more than its container; "+
		"exec without this flag", id, flag, value, why)
}

// containerProcess reads the process of the container's final spec from
// its bundle, found through runc's state (the "bundle=" label).
func containerProcess(inv invocation, id string) (*specs.Process, error) {
	st, err := runcstate.Read(runcRoot(inv), id)
	if err != nil {
		return nil, fmt.Errorf("runc state: %w", err)
	}
	for _, l := range st.Config.Labels {
		if bundle, ok := strings.CutPrefix(l, "bundle="); ok {
			spec, _, err := readSpec(filepath.Join(bundle, "config.json"))
			if err != nil {
				return nil, err
			}
			if spec.Process == nil {
				return nil, errors.New(filepath.Join(bundle, "config.json") + " has no process")
			}
			return spec.Process, nil
		}
	}
	return nil, errors.New("runc state of " + id + " names no bundle")
}
