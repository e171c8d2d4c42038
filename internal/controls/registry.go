package controls

// All is every control in evaluation order. Adding a control is adding a
// file and a line here (and its settings in internal/policy).
var All = []Control{
	HostNamespaces{},
	HostMounts{},
	Devices{},
	Seccomp{},
	Sysctls{},
	Images{},
	Plugins{},
	Capabilities{},
	Privileged{},
	ReadOnlyRoot{},
	NoNewPrivileges{},
	WorkingDir{},
	MaskedPaths{},
	RunAsRoot{},
	LSM{},
	UserNamespaces{},
}

// ByID returns the control with the given ID, or nil.
func ByID(id string) Control {
	for _, c := range All {
		if c.Meta().ID == id {
			return c
		}
	}
	return nil
}
