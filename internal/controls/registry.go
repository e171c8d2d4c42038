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
	HostPathVolumes{},
	MountTypes{},
	RuntimeHandlers{},
}
