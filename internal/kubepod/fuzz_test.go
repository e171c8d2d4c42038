package kubepod

import "testing"

// FuzzTranslate: no manifest, however broken, makes the translator panic;
// every pod it accepts translates into containers with a spec.
func FuzzTranslate(f *testing.F) {
	f.Add([]byte(podHead + "  containers: [{name: c, image: x, securityContext: {privileged: true}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pods, err := Decode("fuzz.yaml", data)
		if err != nil {
			return
		}
		for i := range pods {
			for _, c := range Translate(&pods[i], Options{}) {
				if c.Spec == nil || c.Spec.Process == nil || c.View() == nil {
					t.Fatalf("container %s without a spec", c.Name)
				}
			}
		}
	})
}
