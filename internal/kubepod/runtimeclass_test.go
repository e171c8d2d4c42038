package kubepod

import "testing"

func TestRuntimeClassIsTheHandler(t *testing.T) {
	for manifest, want := range map[string]string{
		podHead + "  containers: [{name: app, image: busybox}]\n":                           "",
		podHead + "  runtimeClassName: crun\n  containers: [{name: app, image: busybox}]\n": "crun",
	} {
		for name, c := range translate(t, manifest, Options{}) {
			if got := c.View().Pod.RuntimeHandler; got != want {
				t.Errorf("%s: runtime handler %q, want %q", name, got, want)
			}
		}
	}
}
