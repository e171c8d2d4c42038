// Package testhost is what the end-to-end suites do to the host itself:
// start and stop the daemons of a run, and find what a run left behind
// (processes, cgroups, mounts) by the marks it put on them, so that a
// teardown, or the sweep of the next run after a killed one, removes
// exactly that and nothing of anyone else's.
package testhost
