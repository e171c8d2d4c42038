package apply

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var profile = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}

func rewrites() []view.Rewrite {
	return []view.Rewrite{
		{Kind: view.DropMount, Mount: view.Mount{Destination: "/host"}},
		{Kind: view.ReadOnlyMount, Mount: view.Mount{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}}},
		{Kind: view.RemoveDevice, Device: view.Device{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
		{Kind: view.SetSeccomp, Seccomp: profile},
	}
}

func TestApplyToSpec(t *testing.T) {
	fuseMajor, fuseMinor, nullMajor, nullMinor := int64(10), int64(229), int64(1), int64(3)
	spec := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/host", Type: "bind", Source: "/", Options: []string{"rbind"}},
			{Destination: "/logs", Type: "bind", Source: "/var/log", Options: []string{"rbind", "rw"}},
		},
		Linux: &specs.Linux{Devices: []specs.LinuxDevice{{Path: "/dev/fuse"}, {Path: "/dev/null"}},
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &fuseMajor, Minor: &fuseMinor, Access: "rwm"}, {Allow: true, Type: "c", Major: &nullMajor, Minor: &nullMinor, Access: "rwm"}}}},
	}
	must(t, Spec{}.Apply(spec, rewrites()))
	// The removed device's cgroup rule goes with it (red team: without
	// the node the rule lets the container mknod and open it).
	if rules := spec.Linux.Resources.Devices; len(rules) != 2 || *rules[1].Major != 1 {
		t.Fatalf("device rules %+v", rules)
	}
	if len(spec.Mounts) != 2 || spec.Mounts[1].Destination != "/logs" || !slices.Equal(spec.Mounts[1].Options, []string{"rbind", "ro"}) {
		t.Fatalf("mounts %+v", spec.Mounts)
	}
	if len(spec.Linux.Devices) != 1 || spec.Linux.Devices[0].Path != "/dev/null" {
		t.Fatalf("devices %+v", spec.Linux.Devices)
	}
	if spec.Linux.Seccomp != profile {
		t.Fatal("seccomp not set")
	}
}

func TestApplyProcessRewrites(t *testing.T) {
	caps := []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}
	spec := &specs.Spec{
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: slices.Clone(caps), Effective: slices.Clone(caps), Permitted: slices.Clone(caps), Ambient: []string{"CAP_SYS_ADMIN"}}},
	}
	must(t, Spec{}.Apply(spec, []view.Rewrite{{Kind: view.DropCapability, Capability: "CAP_SYS_ADMIN"}, {Kind: view.SetRootReadonly}, {Kind: view.SetNoNewPrivileges}}))
	c := spec.Process.Capabilities
	if !slices.Equal(c.Bounding, []string{"CAP_CHOWN"}) || !slices.Equal(c.Effective, []string{"CAP_CHOWN"}) || len(c.Ambient) != 0 {
		t.Fatalf("capabilities %+v", c)
	}
	if !spec.Root.Readonly || !spec.Process.NoNewPrivileges {
		t.Fatal("root.readonly / noNewPrivileges not set")
	}
}

// TestReadOnlyRootScratchGoesFirst: the scratch tmpfs mounts come before
// every mount of the spec, so a volume below one (the service account's
// token under /run, a database's data under /var/lib) is mounted on top
// of it and stays visible.
func TestReadOnlyRootScratchGoesFirst(t *testing.T) {
	token := specs.Mount{Destination: "/var/run/secrets/kubernetes.io/serviceaccount", Type: "bind", Source: "/var/lib/kubelet/pods/p/volumes/token", Options: []string{"rbind", "ro"}}
	spec := &specs.Spec{Root: &specs.Root{Path: "rootfs"}, Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}, token}}
	scratch := []view.Mount{
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "mode=755", "tmpcopyup"}},
		{Destination: "/var/lib", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "mode=755", "tmpcopyup"}},
	}
	must(t, Spec{}.Apply(spec, []view.Rewrite{{Kind: view.SetRootReadonly, Scratch: scratch}}))
	var dests []string
	for _, m := range spec.Mounts {
		dests = append(dests, m.Destination)
	}
	if want := []string{"/run", "/var/lib", "/proc", token.Destination}; !spec.Root.Readonly || !slices.Equal(dests, want) {
		t.Fatalf("readonly %v, mounts %v, want %v", spec.Root.Readonly, dests, want)
	}
	if !slices.Equal(spec.Mounts[0].Options, scratch[0].Options) || spec.Mounts[0].Type != "tmpfs" {
		t.Fatalf("scratch mount %+v", spec.Mounts[0])
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sample is one rewrite of each kind, with what it needs.
func sample(k view.RewriteKind) view.Rewrite {
	return view.Rewrite{Kind: k, Mount: view.Mount{Source: "/var/log", Destination: "/logs", Type: "bind", Options: []string{"rbind", "rw"}},
		Device: view.Device{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, Seccomp: profile, Capability: "CAP_SYS_ADMIN",
		Paths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"}}
}

func fullSpec() *specs.Spec {
	caps := []string{"CAP_SYS_ADMIN"}
	return &specs.Spec{
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: slices.Clone(caps), Effective: slices.Clone(caps)}},
		Mounts:  []specs.Mount{{Destination: "/logs", Type: "bind", Source: "/var/log", Options: []string{"rbind", "rw"}}},
		Linux:   &specs.Linux{Devices: []specs.LinuxDevice{{Path: "/dev/fuse"}}},
	}
}

// TestEveryRewriteKindIsAppliedOrRefused: no kind is skipped in silence;
// the user namespace is refused without its step and taken with it.
func TestEveryRewriteKindIsAppliedOrRefused(t *testing.T) {
	for _, k := range view.RewriteKinds() {
		before, spec := fullSpec(), fullSpec()
		ran := false
		err := Spec{UserNamespace: func(s *specs.Spec) error {
			ran = true
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			return nil
		}}.Apply(spec, []view.Rewrite{sample(k)})
		if err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if reflect.DeepEqual(before, spec) {
			t.Errorf("%s: the spec did not change", k)
		}
		if ran != (k == view.SetUserNamespace) {
			t.Errorf("%s: the user namespace step ran: %v", k, ran)
		}
	}
	var step *StepError
	if err := (Spec{}).Apply(fullSpec(), []view.Rewrite{sample(view.SetUserNamespace)}); !errors.As(err, &step) || step.Kind != view.SetUserNamespace {
		t.Errorf("a user namespace without its step: %v", err)
	}
	if err := (Spec{}).Apply(fullSpec(), []view.Rewrite{{Kind: view.RewriteKind(99)}}); err == nil {
		t.Error("an unknown kind was skipped")
	}
}
