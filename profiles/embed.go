// Package profiles carries the product's data files (seccomp profiles,
// later policy presets) into the binary, so one static file is enough on a
// node. The code that reads them lives in internal/profiles.
package profiles

import "embed"

// FS holds the profiles/ data files.
//
//go:embed seccomp/*.json seccomp/*.yaml
var FS embed.FS
