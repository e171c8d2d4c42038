package install

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"
)

// K3s's configuration file and its drop-ins, which it merges in name
// order (a later file's key wins).
const (
	k3sConfigFile = "/etc/rancher/k3s/config.yaml"
	k3sConfigDir  = "/etc/rancher/k3s/config.yaml.d"
)

// systemDefaultRegistry is K3s's system-default-registry as its
// configuration files set it, "" when none does. K3s then pulls its own
// images (klipper-lb, coredns, local-path) from there, so the k3s-system
// preset's exceptions, which name no registry, must mean that one: the
// policy's images.systemRegistries. A --system-default-registry flag in
// the service's command line is not read.
func systemDefaultRegistry(root string) (string, error) {
	files := []string{onNode(root, k3sConfigFile)}
	dropIns, _ := filepath.Glob(filepath.Join(onNode(root, k3sConfigDir), "*.yaml"))
	slices.Sort(dropIns)
	registry := ""
	for _, f := range append(files, dropIns...) {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		var cfg struct {
			Registry string `yaml:"system-default-registry"`
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			return "", fmt.Errorf("K3s's configuration %s: %w", f, err)
		}
		if cfg.Registry != "" {
			registry = cfg.Registry
		}
	}
	return registry, nil
}

// systemRegistriesText is the policy lines that point unqualified image
// patterns at K3s's system default registry.
func systemRegistriesText(registry string) string {
	if registry == "" {
		return ""
	}
	return fmt.Sprintf("  # K3s pulls its own images from its system-default-registry (%s):\n"+
		"  # the k3s-system exceptions' image patterns name no registry and mean this one.\n"+
		"  images:\n    systemRegistries: [%q]\n", k3sConfigFile, registry)
}
