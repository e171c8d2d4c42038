package view

import (
	"golang.org/x/sys/unix"
)

// NodeDevice reports the device node at path on the node: its type ("c"
// or "b") and numbers. ok is false when path is not a device node there.
// A CRI client names a device's container path and its host path
// separately, so an allowlist of paths means something only if the device
// behind an allowed path is the node's device at that path.
func NodeDevice(path string) (typ string, major, minor int64, ok bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", 0, 0, false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return "", 0, 0, false
	}
	return typ, int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev))), true
}
