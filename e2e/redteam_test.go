//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The red team's routes (third round): each test makes a container try
// the escape for real and asserts that it fails or the pod is refused.

// installedPolicy is the node policy `nri-guard install k3s --mode
// enforce` writes: the built-in defaults with the k3s-system preset.
var installedPolicy = policyRef{File: filepath.Join(repoRoot, "e2e", "policies", "k3s-defaults", "policy.yaml")}

// TestRedTeamNodeDaemonSockets: under the installed policy a container
// runs as root with the baseline capabilities (CAP_DAC_OVERRIDE among
// them) and may mount any host path that is not listed as sensitive.
// /run/systemd (systemd's private manager socket: start any unit as
// root), /run/dbus (the system bus: systemd1.StartTransientUnit as uid
// 0), /run/user (root's session bus and systemd --user) and
// /var/lib/nri-guard (the guard's own state on the plain layout: its
// last good policy and the user namespace pool) each give the node to
// whoever writes there as root (/home, a sudo user's authorized_keys,
// too: unit-tested, the suite does not overlay /home). The suite's machines run no systemd, so a canary
// planted in each directory stands for the socket: the pod mounts the
// directory, reads the canary and writes beside it. Each must be
// refused, or read and write nothing.
func TestRedTeamNodeDaemonSockets(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	dirs := []string{"/run/systemd", "/run/dbus", "/var/run/dbus", "/run/user/0", "/var/lib/nri-guard"}
	sideBySide(t, versions, func(t *testing.T, v string) {
		e := newEnvWith(t, v, "external", installedPolicy)
		tag := strings.ReplaceAll(v, ".", "")
		for i, dir := range dirs {
			t.Run(strings.ReplaceAll(strings.Trim(dir, "/"), "/", "_"), func(t *testing.T) {
				canary := "nrig-daemon-canary-" + e.token
				plant := "mkdir -p " + dir + " && echo " + canary + " > " + dir + "/nrig-canary && chmod 600 " + dir + "/nrig-canary"
				if out, err := e.inNamespace("sh", "-c", plant).CombinedOutput(); err != nil {
					t.Fatalf("plant: %v %s", err, out)
				}
				p := e.newPod("default", "daemonsock-"+string(rune('a'+i))+"-"+tag, false)
				defer p.remove()
				id, err := p.create(map[string]any{"mounts": []any{map[string]any{"host_path": dir, "container_path": "/node"}}})
				if err == nil {
					_, err = e.crictl("start", id)
				}
				if err != nil {
					if !strings.Contains(err.Error(), "host-mounts") {
						t.Fatalf("refused, but not for the host mount: %s", guardText(err.Error()))
					}
					t.Logf("refused: %s", guardText(err.Error()))
					return
				}
				out, _ := e.crictl("exec", id, "sh", "-c", "id -u; cat /node/nrig-canary; echo "+e.token+" > /node/nrig-written && echo wrote")
				t.Logf("container: %q", out)
				got, _ := e.inNamespace("cat", dir+"/nrig-written").CombinedOutput()
				if strings.Contains(out, canary) || strings.Contains(string(got), e.token) {
					t.Errorf("BYPASS: a pod under the installed policy mounted the node's %s, read a root-only file there and wrote beside it (%q)", dir, got)
				}
			})
		}
	})
}

// TestRedTeamDeviceCgroupRule: a later NRI plugin adds a cgroup device
// rule that allows every device (NRI's linux.resources.devices, kept for
// NRI v1 emulation) and no device node. The container, root with
// CAP_MKNOD under the installed policy, makes the node's /dev/kmsg (c
// 1:11) in its own /dev and writes a line into the node's kernel log. On
// containerd 2.2+ nri-guard's validation refuses the change (cgroup
// device rules have no owner in NRI's records, so no policy can trust
// them); containerd 2.1 has no validation phase, and the runtime wrapper
// sees the rule in config.json. The pod is one an operator let out of
// the user namespace (in one, mknod of a device is never allowed). The
// line must never reach the node. Seen on 2.1.9, before and after the
// wrapper learnt to judge device cgroup rules: the rule never reaches the
// container's cgroup (mknod works, the open is refused by the kernel), so
// there the wrapper's check (controls/devicerules.go) guards rules that
// do reach config.json by other ways.
func TestRedTeamDeviceCgroupRule(t *testing.T) {
	if !needsGuard() {
		t.Skip("NRI_GUARD_E2E_MODES has no guard mode")
	}
	sideBySide(t, versions, func(t *testing.T, v string) {
		pol := copiedPolicy(t, installedPolicy)
		name := "devrule-" + strings.ReplaceAll(v, ".", "")
		noUserns := "apiVersion: nri-guard.io/v1alpha1\nkind: NodePolicy\nexceptions:\n  - name: devrule-no-userns\n    match: {namespaces: [default], pods: [" + name + "]}\n    controls:\n      userNamespaces: {mode: \"off\"}\n"
		must(t, os.WriteFile(filepath.Join(pol.Dir, "50-devrule.yaml"), []byte(noUserns), 0o644))
		e := newEnvWith(t, v, "external", pol)
		rules := e.startHostile()
		e.setHostileRules(rules, hostileRule{Container: "c1", Pod: name, Adjust: map[string]any{
			"linux": map[string]any{"resources": map[string]any{"devices": []any{map[string]any{"allow": true, "access": "rwm"}}}},
		}})
		p := e.newPod("default", name, false)
		defer p.remove()
		id, err := p.create(map[string]any{})
		if err == nil {
			_, err = e.crictl("start", id)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "devices") {
				t.Fatalf("refused, but not for the device rule: %v", err)
			}
			t.Logf("refused: %s", guardText(err.Error()))
			return
		}
		line := "nrig-kmsg-" + e.token
		out, _ := e.crictl("exec", id, "sh", "-c", "id -u; mknod /dev/nrig-kmsg c 1 11 2>&1 && echo "+line+" 2>&1 > /dev/nrig-kmsg && echo wrote")
		t.Logf("container: %q", out)
		dmesg, _ := e.inNamespace("dmesg").CombinedOutput()
		if strings.Contains(string(dmesg), line) || strings.Contains(out, "wrote") {
			t.Errorf("BYPASS: a later plugin's cgroup device rule let the container open a node device it made (/dev/kmsg): the node's kernel log has its line")
		}
	})
}
