package userns

import (
	"fmt"
	"os"
	"runtime"
	"sort"

	"golang.org/x/sys/unix"
)

// WriteNetSysctls writes sysctls into the network namespace at nsPath
// from the node's side. The pod's network namespace belongs to the node's
// user namespace, so runc, already inside the pod's user namespace, may
// not write them. The thread that enters the namespace is locked and only
// handed back to Go once it is back in its own.
func WriteNetSysctls(nsPath string, sysctls map[string]string) error {
	if len(sysctls) == 0 {
		return nil
	}
	if nsPath == "" {
		return fmt.Errorf("net sysctls for a pod without a network namespace path")
	}
	target, err := os.Open(nsPath)
	if err != nil {
		return err
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() { errc <- writeInNamespace(int(target.Fd()), sysctls) }()
	return <-errc
}

func writeInNamespace(target int, sysctls map[string]string) error {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer own.Close()
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter the pod's network namespace: %w", err)
	}
	werr := writeAll(sysctls)
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it exits with this goroutine instead
		// of running other code in the pod's namespace.
		return fmt.Errorf("return to the node's network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return werr
}

func writeAll(sysctls map[string]string) error {
	names := make([]string, 0, len(sysctls))
	for k := range sysctls {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		path, err := SysctlPath(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(sysctls[name]), 0); err != nil {
			return fmt.Errorf("sysctl %s: %w", name, err)
		}
	}
	return nil
}
