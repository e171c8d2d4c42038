package controls

import (
	"path"
	"strings"

	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/view"
)

// ReadOnlyRoot makes the root filesystem read-only, so a compromised
// process cannot plant binaries or edit the image. Writable volumes
// (emptyDir and friends) are mounts and stay as they are. Where it forces
// the root read-only, the scratch directories get a tmpfs each with the
// image's contents copied in: a writable root layer lives no longer than
// its container either, so a program that writes its pid file or cache
// loses nothing, and what it writes cannot be run.
type ReadOnlyRoot struct{}

func (ReadOnlyRoot) Meta() Meta {
	return Meta{
		ID: "read-only-root", Key: "readOnlyRootFilesystem", Needs: CapFullSpec,
		Reads: "`root.readonly`",
		Does:  "makes the root filesystem read-only (`action: force`, with a writable noexec tmpfs over each `scratch` directory no volume covers) or refuses (`refuse`); volumes stay writable",
	}
}

func (ReadOnlyRoot) Check(c *view.Container, s *policy.Controls, _ *Env) []Finding {
	if c.Process == nil || c.Process.RootReadonly {
		return nil
	}
	f := forceFinding("read-only-root", "root.readonly", "writable root filesystem",
		"readOnlyRootFilesystem.action", s.ReadOnlyRoot.Action, view.SetRootReadonly,
		"set readOnlyRootFilesystem: true (write to volumes), or add an exception for this pod that sets readOnlyRootFilesystem.mode: off")
	if f.Rewrite != nil {
		f.Rewrite.Scratch = scratchFor(c, s.ReadOnlyRoot.Scratch.Value, s.ReadOnlyRoot.ScratchSize.Value)
	}
	return []Finding{f}
}

// scratchFor gives each scratch directory no mount covers a tmpfs.
// tmpcopyup (runc's extension) copies the image's directory in, its
// contents and its own owner and mode, so /run/postgresql stays the
// postgres user's. A container in a user namespace gets none: runc would
// copy inside the namespace, which cannot read the image's root-only
// directories (Debian's /var/cache/ldconfig), and the container would
// not start.
func scratchFor(c *view.Container, dirs []policy.ContainerDir, size policy.TmpfsSize) []view.Mount {
	if c.Process.UserNamespace {
		return nil
	}
	var out []view.Mount
	for _, d := range dirs {
		dir := string(d)
		if coveredByMount(c.Mounts, dir) {
			continue
		}
		opts := []string{"nosuid", "nodev", "noexec"}
		if size != "" {
			opts = append(opts, "size="+string(size))
		}
		out = append(out, view.Mount{Source: "tmpfs", Destination: dir, Type: "tmpfs", Options: append(opts, "tmpcopyup")})
	}
	return out
}

// coveredByMount reports whether a mount lies at dir or above it: the
// volume already decides what is writable there. Destinations are paths
// in the container, cleaned as runc cleans them.
func coveredByMount(mounts []view.Mount, dir string) bool {
	for _, m := range mounts {
		dest := path.Clean("/" + m.Destination)
		if dest == "/" || dest == dir || strings.HasPrefix(dir, dest+"/") {
			return true
		}
	}
	return false
}

// forceFinding is the shared shape of "must be on": rewrite it on, or
// refuse, per the control's action.
func forceFinding(control, field, problem, rule string, action policy.Setting[policy.ForceAction], kind view.RewriteKind, fix string) Finding {
	f := Finding{Control: control, Field: field, Value: "false", Problem: problem, Rule: rule, Source: action.Source, Fix: fix}
	if action.Value == policy.ForceRefuse {
		f.Verdict = Refuse
		return f
	}
	f.Verdict, f.Rewrite = Rewrite, &view.Rewrite{Kind: kind}
	f.Problem += " (set to true)"
	return f
}
