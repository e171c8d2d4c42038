package view

import "strings"

// Adjustment is one change an NRI plugin made to a field that no other
// control judges: environment, arguments, rlimits, CDI devices, network
// devices, namespaces, annotations, resources and the like. The plugins
// control lets it through only when the policy trusts the plugin for its
// kind.
type Adjustment struct {
	// Kind is the field kind, as plugins.allow names it ("env").
	Kind string
	// Field is the field changed, e.g. "env[HTTP_PROXY]".
	Field string
	// Value is the new value, "(removed)" for a removal.
	Value string
	// By is the plugin NRI names as the owner; "" when NRI records none
	// (it does not for removals of annotations and for cgroup device
	// rules), which no policy can trust.
	By string
	// Forbidden says why no plugin may make this change, trusted or not
	// (an identity annotation, the node's mount namespace); "" otherwise.
	Forbidden string
}

// ProtectedAnnotationPrefixes are the annotations that say who a
// container is (containerd's CRI: container type, pod namespace, name,
// uid and sandbox id, container and image name) and nri-guard's own
// decision record. The runtime wrapper and other tools read them, so no
// NRI plugin may set or remove them. crun's run.oci.* annotations change
// how it sets the container up (run.oci.keep_original_groups skips
// setgroups, keeping the caller's group 0), after the wrapper judged the
// spec, so they are no plugin's either.
var ProtectedAnnotationPrefixes = []string{"io.kubernetes.cri.", "io.containerd.", "nri-guard.io/", "run.oci."}

// IsProtectedAnnotation reports whether key is one no plugin may change.
func IsProtectedAnnotation(key string) bool {
	for _, p := range ProtectedAnnotationPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
