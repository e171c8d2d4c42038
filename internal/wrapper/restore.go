package wrapper

// refuseRestore refuses `runc restore` unless the node's wrapper
// configuration allows it. CRIU gives each restored process the
// credentials, capabilities, seccomp filters and no_new_privs bit written
// in the checkpoint image, not those of config.json: the spec the guard
// judged does not govern what runs. containerd (2.1 and later) restores a
// CRI container whose image is a checkpoint archive, so any pod author
// who can name an image could hand the node a checkpoint of a privileged
// process.
func refuseRestore(cfg Config, configPath string, inv invocation) string {
	if inv.verb != "restore" || cfg.AllowRestore {
		return ""
	}
	return "nri-guard-runc: refused: runc restore of container " + inv.containerID() +
		": a process restored from a CRIU checkpoint keeps the credentials, capabilities and seccomp filters its checkpoint image records," +
		" which the judged spec does not govern; to allow restores on this node, set allowRestore: true in " + configPath
}
