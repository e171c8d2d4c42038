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

// Caller is what one caller of the engine can see and serve: the NRI
// plugin on the runtime it connected to, the runtime wrapper, the offline
// check. Each builds it once; the engine alone decides from it which
// controls are unavailable and how a rewrite it cannot make is served.
type Caller struct {
	// Name says who it is, for the reasons a control is unavailable
	// ("containerd 2.1.9 (NRI v0.8.0)").
	Name string
	// Caps holds the Cap* values the caller has.
	Caps map[string]bool
	// Self is the NRI plugin's name (index-name), so changes it made
	// itself are not taken for another plugin's.
	Self string
	// DeviceRemoval: the caller can remove a device from the container.
	// NRI cannot: its runtime side drops device removals from the combined
	// adjustment (pkg/adaptation, v0.12.5), so "remove" is served there as
	// a refusal.
	DeviceRemoval bool
	// SeccompErrnoRet: the caller can install a profile whose rules carry
	// their own errnoRet. containerd 2.2.x cannot: its NRI (v0.11.0)
	// crashes on one, so such a profile is refused there, not injected.
	SeccompErrnoRet bool
	// AppArmor and SELinux say whether the node enforces these LSMs.
	AppArmor, SELinux bool
	// NodeDevice reads the node's device node at a path (view.NodeDevice).
	// Nil (the offline check) takes an allowed device path at its word.
	NodeDevice func(path string) (typ string, major, minor int64, ok bool)
}

// SeesEverything is a caller with the whole spec in hand, which can make
// every rewrite: the runtime wrapper and the offline check.
func SeesEverything(name string) Caller {
	return Caller{Name: name, Caps: map[string]bool{CapFullSpec: true, CapSeccompAdjustment: true, CapValidation: true},
		DeviceRemoval: true, SeccompErrnoRet: true}
}

// OfflineCheck is `nri-guard check`: it sees the whole spec but answers
// as the node would, where the NRI plugin judges devices first and cannot
// remove one. It assumes no LSM is enforced unless told.
func OfflineCheck() Caller {
	c := SeesEverything("nri-guard check")
	c.DeviceRemoval = false
	return c
}

// Unavailable lists the controls this caller cannot serve, with why.
func (c Caller) Unavailable() map[string]string {
	out := map[string]string{}
	for _, ctl := range All {
		if m := ctl.Meta(); m.Needs != "" && !c.Caps[m.Needs] {
			out[m.ID] = c.Name + " has no " + m.Needs
		}
	}
	return out
}
