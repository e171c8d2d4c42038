// Package profiles carries nri-guard's data files into the binary, so one
// static file is all a node needs. Only the generated JSON profiles are
// embedded: their YAML sources are for review and for the generator. The
// code that reads and checks them is internal/profiles.
package profiles

import "embed"

// FS holds seccomp/*.json.
//
//go:embed seccomp/*.json
var FS embed.FS
