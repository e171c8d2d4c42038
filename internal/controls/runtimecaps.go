package controls

// Runtime capabilities a control may need. The NRI plugin learns at
// Configure time which ones the runtime has and switches controls that
// need a missing one to "unavailable", saying so in its log; it never
// claims a rewrite the runtime would drop.
const (
	// CapSeccompAdjustment: NRI can set the seccomp filter (containerd 2.2+).
	CapSeccompAdjustment = "seccomp-adjustment"
	// CapValidation: NRI calls validators after all plugins (containerd 2.2+).
	CapValidation = "validation"
)

// CapFullSpec: the caller sees the whole OCI spec (the runtime wrapper,
// the offline check). NRI does not show capabilities, no_new_privs, the
// root's read-only flag, the working directory or masked paths.
const CapFullSpec = "full-spec"
