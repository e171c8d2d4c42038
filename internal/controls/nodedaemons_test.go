package controls

import "testing"

// TestNodeDaemonSocketsAreSensitive: with the built-in hostMounts lists
// (the installed K3s policy, where containers run as root and any
// unlisted host path may be mounted), a bind of a directory that holds a
// node daemon's control socket is refused, read-only too (connecting
// needs no write access to the directory): systemd's private socket, the
// system bus (also as /var/run/dbus), root's session bus, snapd; and the
// guard's own state on the plain layout, and users' homes (a sudo user's
// authorized_keys). Found by the red team: none of these was listed.
func TestNodeDaemonSocketsAreSensitive(t *testing.T) {
	s := loadControls(t, "")
	for _, src := range []string{"/run/systemd", "/run/systemd/private", "/run/dbus", "/var/run/dbus/system_bus_socket",
		"/run/user/0", "/run/snapd.socket", "/var/lib/nri-guard", "/var/lib/nri-guard/userns", "/home/admin/.ssh"} {
		for _, opt := range []string{"rw", "ro"} {
			if got := (HostMounts{}).Check(withMounts(bind(src, "/x", "rbind", opt)), s, testEnv()); len(got) == 0 {
				t.Errorf("a %s bind of %s passes hostMounts with the built-in lists", opt, src)
			}
		}
	}
	// What pods commonly mount next to them stays allowed.
	for _, src := range []string{"/run/xtables.lock", "/run/log/journal", "/var/lib/cni"} {
		if got := (HostMounts{}).Check(withMounts(bind(src, "/x", "rbind", "ro")), s, testEnv()); len(got) != 0 {
			t.Errorf("a read-only bind of %s must pass: %v", src, texts(got))
		}
	}
}
