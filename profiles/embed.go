// Package profiles carries nri-guard's data files into the binary, so one
// static file is all a node needs. Only the generated JSON profiles are
// embedded: their YAML sources are for review and for the generator. The
// code that reads and checks them is internal/profiles; the policy presets
// (policy/*.yaml) are read by internal/policy.
package profiles

import "embed"

// FS holds seccomp/*.json and the policy presets policy/*.yaml.
//
//go:embed seccomp/*.json policy/*.yaml
var FS embed.FS
