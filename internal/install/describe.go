package install

import (
	"bytes"
	"fmt"
	"io"
)

// describe says what the installer found and which guards the node gets,
// before it changes anything.
func describe(w io.Writer, n Node) {
	k3s := n.K3sVersion
	if k3s == "" {
		k3s = "(version unknown)"
	}
	fmt.Fprintf(w, "K3s %s, containerd %s\n", k3s, n.ContainerdVersion)
	if n.DropIns {
		fmt.Fprintf(w, "containerd configuration: drop-in %s (this K3s imports config-v3.toml.d/*.toml)\n", dropInFile)
	} else {
		fmt.Fprintf(w, "containerd configuration: %s, K3s's base template plus an import of %s (this K3s imports no config-v3.toml.d drop-ins)\n", userTemplate, importedConfig)
	}
	fmt.Fprintln(w, "guards on this node:")
	fmt.Fprintf(w, "  - NRI plugin nri-guard, pre-registered (containerd starts it from %s): judges every container before it exists\n", pluginDir)
	if n.Validator() {
		fmt.Fprintln(w, "  - containerd's default NRI validator requires nri-guard: no container is created while it is not running")
	} else {
		fmt.Fprintf(w, "  - containerd %s has no NRI validator: while nri-guard is down, NRI lets containers through;\n", n.ContainerdVersion)
		fmt.Fprintln(w, "    the runtime wrapper is the only fail-closed point (a container without nri-guard's signed record gets the strict treatment)")
		fmt.Fprintln(w, "  - NRI on this containerd drops seccomp changes: the runtime wrapper injects the default seccomp profile")
	}
	fmt.Fprintf(w, "  - runtime wrapper %s as runc: judges the final OCI spec (capabilities, privileged, read-only root, no_new_privs, ...)\n", wrapperBin)
	if n.Remap {
		fmt.Fprintf(w, "  - user namespaces: root in a container is not root on the node (%s)\n", n.RemapWhy)
	} else {
		fmt.Fprintf(w, "  - user namespaces off: root in a container is root on the node (%s)\n", n.RemapWhy)
	}
	describeRuntimes(w, n)
}

// show prints every step of a dry run, with each file's content or the
// change to it.
func show(w io.Writer, root string, actions []action, dirs []string) {
	for _, d := range dirs {
		fmt.Fprintf(w, "would create directory %s\n", onNode(root, d))
	}
	for _, a := range actions {
		path := onNode(root, a.f.path)
		switch a.verb {
		case create:
			fmt.Fprintf(w, "would create %s (mode %04o)\n", path, a.f.mode)
			showContent(w, a.f)
		case update, replace:
			fmt.Fprintf(w, "would %s %s (mode %04o)%s\n", a.verb, path, a.f.mode, suffix(a.note))
			if a.f.binary {
				showContent(w, a.f)
			} else {
				writeDiff(w, string(a.cur), string(a.f.data))
			}
		case remove:
			fmt.Fprintf(w, "would remove %s (no longer needed on this node)%s\n", path, restoreNote(a.old))
		case kept:
			fmt.Fprintf(w, "%s %s%s\n", a.verb, path, suffix(a.note))
			// What the installer would have written, so an admin can
			// carry over a new setting by hand.
			if !a.f.binary && !bytes.Equal(a.cur, a.f.data) {
				writeDiff(w, string(a.cur), string(a.f.data))
			}
		default:
			fmt.Fprintf(w, "%s %s%s\n", a.verb, path, suffix(a.note))
		}
	}
}

func showContent(w io.Writer, f file) {
	if f.binary {
		fmt.Fprintf(w, "    binary, %d bytes, sha256 %s\n", len(f.data), hashOf(f.data))
		return
	}
	writeText(w, string(f.data))
}

// report lists what an install did.
func report(w io.Writer, actions []action) {
	for _, a := range actions {
		if a.verb == remove {
			fmt.Fprintf(w, "removed %s%s\n", a.f.path, restoreNote(a.old))
			continue
		}
		fmt.Fprintf(w, "%-9s %s%s\n", a.verb, a.f.path, suffix(a.note))
	}
}

func suffix(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

func restoreNote(e *entry) string {
	if e == nil || e.Backup == "" {
		return ""
	}
	return "; the file that was there before is put back"
}
