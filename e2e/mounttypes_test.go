//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mountRoute is one entry of e2e/adjustments/mounts.json.
type mountRoute struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Adjust      map[string]any `json:"adjust"`
	Refused     string         `json:"refused"`
	Try         []string       `json:"try"`
}

func loadMountRoutes(t *testing.T) []mountRoute {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "e2e", "adjustments", "mounts.json"))
	must(t, err)
	var doc struct {
		Routes []mountRoute `json:"routes"`
	}
	must(t, json.Unmarshal(raw, &doc))
	if len(doc.Routes) == 0 {
		t.Fatal("e2e/adjustments/mounts.json has no routes")
	}
	return doc.Routes
}

// TestMountTypeRoutes: a later NRI plugin adds mounts that are not plain
// binds (an overlay of the node's / or /etc, a bind spelled type none, a
// fresh proc, an unknown filesystem type) to an ordinary pod. Each is refused:
// on containerd 2.2+ by nri-guard's validation phase, naming the plugin;
// on 2.1, which has no validation, by the runtime wrapper, which judges
// the final config.json at start. Should one get through, the container
// tries the route (reads the canary planted on the node, finds
// core_pattern writable) and the test reports what it got.
func TestMountTypeRoutes(t *testing.T) {
	routes := loadMountRoutes(t)
	eachVersion(t, func(t *testing.T, e *env, tag string) {
		canary := "nrig-canary-" + e.token
		if out, err := e.inNamespace("sh", "-c", "echo "+canary+" > /etc/nrig-canary").CombinedOutput(); err != nil {
			t.Fatalf("planting the canary: %v %s", err, out)
		}
		e.writeFile("nrig-canary", canary+"\n")
		rules := e.startHostile()
		benignMounts(t, e, "mt-benign-"+tag)
		for _, r := range routes {
			t.Run(r.Name, func(t *testing.T) {
				name := "mt-" + r.Name + "-" + tag
				e.setHostileRules(rules, hostileRule{Container: "c1", Pod: name, Adjust: r.Adjust})
				p := e.newPod("e2e", name, false)
				defer p.remove()
				id, err := createAndStart(e, p)
				if err == nil {
					out, _ := e.crictl(append([]string{"exec", id}, r.Try...)...)
					t.Fatalf("%s: the container was created; %v in it gave %q", r.Description, r.Try, out)
				}
				if !strings.Contains(err.Error(), r.Refused) {
					t.Fatalf("refusal lacks %q:\n%v", r.Refused, err)
				}
				if hasValidator(e.version) && !strings.Contains(err.Error(), "(set by NRI plugin 90-hostile)") {
					t.Errorf("the validation phase must name the plugin:\n%v", err)
				}
				t.Logf("containerd %s refused %s: %v", e.version, r.Name, err)
			})
		}
	})
}

// createAndStart creates and starts c1 and returns its ID and the first
// error: the validation phase refuses at create, the runtime wrapper at
// start.
func createAndStart(e *env, p *pod) (string, error) {
	id, err := p.create(map[string]any{})
	if err != nil {
		return "", err
	}
	_, err = e.crictl("start", id)
	return id, err
}

// benignMounts: with the hostile plugin attached but handing this pod
// nothing, a container with containerd's default mounts and a hostPath
// volume runs, so the refusals above are the routes' own.
func benignMounts(t *testing.T, e *env, name string) {
	vol := e.path("vol-" + name)
	must(t, os.MkdirAll(vol, 0o755))
	p := e.newPod("e2e", name, false)
	defer p.remove()
	withVolume := map[string]any{"mounts": []any{map[string]any{"host_path": vol, "container_path": "/data"}}}
	id, err := p.create(withVolume)
	if err == nil {
		_, err = e.crictl("start", id)
	}
	if err != nil {
		t.Fatalf("a container with the default mounts must run: %v", err)
	}
	out, err := e.crictl("inspect", id)
	must(t, err)
	var doc struct {
		Info struct {
			RuntimeSpec struct {
				Mounts []struct {
					Destination string   `json:"destination"`
					Type        string   `json:"type"`
					Options     []string `json:"options"`
				} `json:"mounts"`
			} `json:"runtimeSpec"`
		} `json:"info"`
	}
	must(t, json.Unmarshal([]byte(out), &doc))
	var seen []string
	for _, m := range doc.Info.RuntimeSpec.Mounts {
		seen = append(seen, m.Destination+" "+m.Type+" "+strings.Join(m.Options, ","))
	}
	t.Logf("containerd %s mounts of a benign container: %s", e.version, strings.Join(seen, "; "))
}
