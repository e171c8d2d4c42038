// Package wrapper is nri-guard's runtime wrapper: containerd runs it as
// runc (the runc runtime's BinaryName). On create it sees the bundle's
// final config.json, the only place that shows capabilities, the
// read-only root flag, no_new_privs and the working directory, judges it
// with the node policy, rewrites it or refuses, and then hands over to
// the real runc with the same arguments. It is the fail-closed point: a
// container it cannot judge does not start. Bind mount sources are
// judged as the files they are and handed to runc pinned (pin.go), so
// what is mounted is what was judged.
//
// One binary serves every runc-compatible runtime handler: the name
// containerd runs it under (nri-guard-runc, nri-guard-runc-crun, ...)
// says which handler it serves and so which real binary it hands over
// to; see handlers.go.
package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nri-guard/nri-guard/internal/apply"
	"github.com/nri-guard/nri-guard/internal/controls"
	"github.com/nri-guard/nri-guard/internal/decisionlog"
	"github.com/nri-guard/nri-guard/internal/engine"
	"github.com/nri-guard/nri-guard/internal/loader"
	"github.com/nri-guard/nri-guard/internal/policy"
	"github.com/nri-guard/nri-guard/internal/record"
	"github.com/nri-guard/nri-guard/internal/subpath"
	"github.com/nri-guard/nri-guard/internal/tally"
	"github.com/nri-guard/nri-guard/internal/userns"
	"github.com/nri-guard/nri-guard/internal/view"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Main runs the wrapper and returns its exit code (when it does not exec
// runc).
func Main(args []string, stderr io.Writer) int {
	if os.Getenv(userns.HolderEnv) == "1" {
		return userns.Hold() // settleIDMaps's user namespace
	}
	inv := parseInvocation(args)
	cfg, path, err := loadConfig()
	if err != nil {
		if judges(inv.verb) {
			return refuseCounted(cfg, inv, stderr, fmt.Sprintf("nri-guard-runc: cannot read its configuration %s (%v), so it cannot find runc or the policy; refusing %s", path, err, inv.verb))
		}
		// kill, delete, state, ... of containers judged when they were
		// created: a node whose configuration broke (or was uninstalled
		// under running pods) must still be able to stop them.
		return passThrough(cfg.Runc, args, inv, stderr)
	}
	var msg string
	if judges(inv.verb) {
		if why := inv.doubt(); why != "" {
			return refuseCounted(cfg, inv, stderr, "nri-guard-runc: refused: runc "+inv.verb+": "+why+": the wrapper judges only command lines runc cannot read otherwise")
		}
	}
	switch inv.verb {
	case "create", "run", "restore": // restore starts a container from a bundle too
		if msg = refuseRestore(cfg, path, inv); msg == "" {
			msg = guardCreate(cfg, inv)
		}
		if msg == "" {
			markJudged(cfg, inv)
		}
	case "exec":
		msg = guardExec(inv)
	case "delete":
		unmarkJudged(cfg, inv)
		if code, done := releaseOnDelete(cfg, inv, func() int { return runChild(cfg.Runc, args, stderr) }); done {
			return code
		}
	}
	if msg != "" {
		return refuseCounted(cfg, inv, stderr, msg)
	}
	err = syscall.Exec(cfg.Runc, append([]string{cfg.Runc}, args...), os.Environ())
	return refuseCounted(cfg, inv, stderr, fmt.Sprintf("nri-guard-runc: cannot run the real runc %s: %v", cfg.Runc, err))
}

// judges reports whether the verb starts a process the wrapper must
// judge first; every other verb acts on containers already judged.
func judges(verb string) bool {
	switch verb {
	case "create", "run", "restore", "exec":
		return true
	}
	return false
}

// passThrough runs the real runc without a usable configuration: the one
// it names if it got that far, else the runc on PATH that is not this
// wrapper.
func passThrough(runc string, args []string, inv invocation, stderr io.Writer) int {
	if runc == "" {
		runc = otherRunc()
	}
	if runc == "" {
		return refuse(inv, stderr, "nri-guard-runc: no configuration and no other runc on PATH; cannot "+inv.verb)
	}
	err := syscall.Exec(runc, append([]string{runc}, args...), os.Environ())
	return refuse(inv, stderr, fmt.Sprintf("nri-guard-runc: cannot run the real runc %s: %v", runc, err))
}

func otherRunc() string {
	self, _ := os.Executable()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "runc")
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		if same, _ := sameFile(p, self); !same {
			return p
		}
	}
	return ""
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// guardCreate judges and rewrites the bundle's spec; it returns the
// refusal text, or "" to go on.
func guardCreate(cfg Config, inv invocation) string {
	bundle := inv.local("bundle", "b")
	if bundle == "" {
		bundle = "."
	}
	specPath := filepath.Join(bundle, "config.json")
	spec, mode, err := readSpec(specPath)
	if err != nil {
		return "nri-guard-runc: refused: cannot read the container's spec: " + err.Error()
	}
	pol, env, fallback, err := loadPolicy(cfg)
	if err != nil {
		return "nri-guard-runc: refused: cannot load the node policy: " + oneLine(err.Error())
	}
	// The whole spec is the wrapper's to judge and edit.
	caller := controls.SeesEverything("the runtime wrapper")
	caller.AppArmor, caller.SELinux = nodeLSMs()
	caller.NodeDevice = view.NodeDevice
	// Judge the bind sources as the files they are now, and mount those
	// very files (pin.go): a path swapped after the check changes nothing.
	srcs, err := openSources(spec, bundle)
	if err != nil {
		return "nri-guard-runc: refused: " + oneLine(err.Error())
	}
	defer srcs.close()
	c := view.FromSpec(inv.containerID(), spec, view.SpecSource{IsHostNamespace: view.HostNamespaceChecker(), ResolveSubPath: subpath.HostPath, ReadIDMaps: view.ProcIDMaps})
	c.Pod.RuntimeHandler = cfg.Handler // the spec does not say; the name containerd ran this wrapper under does (handlers.go)
	d, why := decide(engine.New(pol, env, caller), cfg, c, spec)
	if fallback != "" {
		why = strings.TrimPrefix(why+"; "+fallback, "; ")
	}
	// The node's kubeletRoot, never an exception's: a pod that claims an
	// exception must not move where its fresh volumes are looked for.
	msg := carryOut(cfg, inv, bundle, spec, mode, c, &d, srcs, lifetimeOf(&pol.Controls, bundle))
	if msg != "" && d.Action != engine.Refuse {
		// A step after the decision refused (pinning, the user namespace,
		// writing the spec): the log must not say the container ran.
		d.Action = engine.Refuse
		why = strings.TrimPrefix(why+"; refused after the decision: "+msg, "; ")
	}
	// The log's message for a refusal is its text, as the plugin's is,
	// then why the decision was made as it was.
	logged := why
	if msg != "" {
		logged = strings.TrimSuffix(msg+"; "+why, "; ")
	}
	logDecision(cfg, inv, &d, pol.Files, logged)
	countDecision(cfg, inv, &d, why)
	return msg
}

// countDecision tallies the decision for the plugin's metrics.
func countDecision(cfg Config, inv invocation, d *engine.Decision, why string) {
	count(cfg, inv, "create-"+string(d.Action))
	if strings.HasPrefix(why, strictTreatment) {
		count(cfg, inv, "strict")
	}
}

// refuseCounted refuses and tallies the refusal by the verb refused
// (every refusal: before, at or after the decision), so the metrics
// show refusals the decision log cannot (a configuration or command line
// the wrapper will not read, an exec, a restore).
func refuseCounted(cfg Config, inv invocation, stderr io.Writer, msg string) int {
	verb := inv.verb
	if !judges(verb) {
		verb = "other" // the event names stay a fixed few
	}
	count(cfg, inv, "refused-"+verb)
	return refuse(inv, stderr, msg)
}

// count adds one to a tally for the plugin's metrics. A count that cannot
// be written never fails the container, and is not lost in silence: it
// is said in runc's log.
func count(cfg Config, inv invocation, event string) {
	if cfg.Tallies == "" {
		return
	}
	if err := tally.Add(cfg.Tallies, event); err != nil {
		logLine(inv, "warning", "nri-guard-runc: cannot count "+event+" for the metrics: "+err.Error())
	}
}

// carryOut makes the decision true in the bundle: it pins the judged bind
// sources, copies the scratch directories of a container it gives a user
// namespace, applies the rewrites, enters the user namespace and writes
// the spec. It returns the refusal text, or "" to go on.
func carryOut(cfg Config, inv invocation, bundle string, spec *specs.Spec, mode os.FileMode, c *view.Container, d *engine.Decision, srcs *sources, l lifetime) string {
	if d.Action == engine.Refuse {
		return d.RefusalText()
	}
	if !srcs.any() && len(d.Rewrites) == 0 {
		return ""
	}
	rootfs := rootfsPath(bundle, spec)
	rewrites := realScratch(rootfs, d.Rewrites)
	userNamespace := slices.ContainsFunc(rewrites, func(r view.Rewrite) bool { return r.Kind == view.SetUserNamespace })
	if srcs.any() || userNamespace && scratchAt(rewrites) >= 0 {
		dir, err := pinDir(inv.containerID(), runcRoot(inv))
		if err != nil {
			return "nri-guard-runc: refused: " + oneLine(err.Error())
		}
		if err := srcs.pin(spec, dir, d.Rewrites, userNamespace); err != nil {
			releasePins(inv.containerID())
			return "nri-guard-runc: refused: " + oneLine(err.Error())
		}
		if userNamespace {
			if rewrites, err = copyScratch(dir, rootfs, rewrites); err != nil {
				releasePins(inv.containerID())
				return "nri-guard-runc: refused: " + oneLine(err.Error()) +
					"; give the directory a volume, or list fewer directories in readOnlyRootFilesystem.scratch"
			}
		}
	}
	applier := apply.Spec{UserNamespace: func(s *specs.Spec) error { return enterUserNamespace(cfg, inv, bundle, s, c, l) }}
	if err := applier.Apply(spec, rewrites); err != nil {
		releasePins(inv.containerID())
		var step *apply.StepError
		if errors.As(err, &step) && step.Kind == view.SetUserNamespace {
			return userNamespaceRefusal(c, d, step.Err)
		}
		return "nri-guard-runc: refused: cannot rewrite the spec: " + oneLine(err.Error())
	}
	if err := writeSpec(filepath.Join(bundle, "config.json"), spec, mode); err != nil {
		releasePins(inv.containerID())
		return "nri-guard-runc: refused: cannot write the rewritten spec: " + err.Error()
	}
	return ""
}

// loadPolicy loads the live policy files, or, when they do not load (a
// broken drop-in), the copy of the last good policy the NRI plugin keeps:
// one bad file must not stop every container on the node. It says so in
// fallback. With neither, it fails and the container is refused.
func loadPolicy(cfg Config) (*policy.Policy, controls.Profiles, string, error) {
	pol, env, err := loader.Load(cfg.Policy, loader.ExistingDir(cfg.PolicyDir))
	if err == nil || cfg.LastGood == "" {
		return pol, env, "", err
	}
	pol, env, lgErr := loader.Load(filepath.Join(cfg.LastGood, "policy.yaml"), loader.ExistingDir(filepath.Join(cfg.LastGood, "policy.d")))
	if lgErr != nil {
		return nil, nil, "", err
	}
	return pol, env, "the policy files do not load (" + oneLine(err.Error()) + "); the last good policy was used", nil
}

// strictTreatment starts the reason of a decision made without a
// verified record.
const strictTreatment = "strict treatment, no exception applies: "

// decide picks the settings the container runs under. An app container
// gets the exception the NRI plugin chose (it saw the pod's labels) if
// its signed record verifies, and otherwise none: the strict treatment.
// A pod sandbox never passes through NRI's CreateContainer, so it has no
// record; it is matched by namespace and name, which containerd writes.
func decide(eng *engine.Engine, cfg Config, c *view.Container, spec *specs.Spec) (engine.Decision, string) {
	// Only a record vouches for the pod UID; adoptIdentity clears this.
	c.Pod.UIDDoubt = "no signed decision record vouches for the pod UID"
	if c.Sandbox && spec.Annotations[record.Annotation] == "" {
		if why := sandboxImpostor(c); why != "" {
			return impostorDecision(c, why), ""
		}
		return eng.Decide(c), "pod sandbox: exceptions match by namespace and pod name only"
	}
	c.Sandbox = false // containerd's sandboxes never carry a record: whatever has one is an app container
	key, err := record.LoadKey(cfg.RecordKey)
	var rec record.Record
	if err == nil {
		rec, err = record.Verify(key, c.ID, spec.Annotations[record.Annotation])
	}
	if err == nil {
		c.Pod.UIDDoubt = ""
		why := adoptIdentity(c, rec)
		var d engine.Decision
		if d, err = eng.DecideAs(c, rec.Exception); err == nil {
			return d, why
		}
	}
	d, _ := eng.DecideAs(c, "")
	return d, strictTreatment + err.Error()
}

func readSpec(path string) (*specs.Spec, os.FileMode, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return &spec, fi.Mode().Perm(), nil
}

// writeSpec replaces the spec atomically: runc must never read half a file.
func writeSpec(path string, spec *specs.Spec, mode os.FileMode) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	tmp := path + ".nri-guard"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// logDecision writes the decision log's line. A line that cannot be
// written is counted in the tallies (the plugin's metrics report it): the
// refusal or the exec goes on, the log is not the guard.
func logDecision(cfg Config, inv invocation, d *engine.Decision, files []string, why string) {
	out := &decisionlog.File{Path: cfg.DecisionLog, MaxBytes: cfg.DecisionLogMaxBytes, Keep: cfg.DecisionLogKeep}
	if cfg.Tallies != "" {
		// Lines earlier wrappers could not write are said in the log by
		// the first one that can write again.
		out.Pending, out.Reported = tally.DroppedLines(cfg.Tallies)
	}
	err := decisionlog.New(out).Write("runtime", d, files, why)
	var rotate *decisionlog.RotateError
	switch {
	case errors.As(err, &rotate):
		count(cfg, inv, "log-rotate-failed") // the line is in the log
	case err != nil:
		count(cfg, inv, "log-dropped")
	}
}

// refuse reports msg the way runc reports errors: a JSON line in runc's
// --log file, which containerd's shim reads and hands up to the CRI
// client, and a line on standard error.
func refuse(inv invocation, stderr io.Writer, msg string) int {
	msg = oneLine(msg)
	fmt.Fprintln(stderr, msg)
	logLine(inv, "error", msg)
	return 1
}

// logLine appends a JSON line to runc's --log file, as runc logs.
func logLine(inv invocation, level, msg string) {
	logPath := inv.global("log")
	if logPath == "" {
		return
	}
	if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().UTC().Format(time.RFC3339Nano)})
		f.Write(append(line, '\n'))
		f.Close()
	}
}

// runChild runs the real runc and waits for it, for the verbs whose
// outcome the wrapper must see.
func runChild(runc string, args []string, stderr io.Writer) int {
	cmd := exec.Command(runc, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, stderr
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		fmt.Fprintf(stderr, "nri-guard-runc: cannot run the real runc %s: %v\n", runc, err)
		return 1
	}
	return 0
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// nodeLSMs reports which LSMs the node enforces, as the kernel shows it.
func nodeLSMs() (apparmor, selinux bool) {
	if data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil {
		apparmor = strings.TrimSpace(string(data)) == "Y"
	}
	if data, err := os.ReadFile("/sys/fs/selinux/enforce"); err == nil {
		selinux = strings.TrimSpace(string(data)) == "1"
	}
	return apparmor, selinux
}
