//go:build e2e_cluster

// Package cluster runs nri-guard on a real one-node Kubernetes cluster:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// kube-proxy and a kubelet with the settings K3s gives its kubelet,
// around containerd configured by `nri-guard install k3s` itself. The
// whole node lives in one private network and mount namespace (bed.go's
// holder); nothing is routed off the machine and every address is from
// 198.18.0.0/15.
//
// Run it with `make e2e-cluster` (e2e/cluster/run.sh), which installs the
// pinned binaries first (e2e/cluster/setup.sh).
//
// Environment:
//
//	NRI_GUARD_E2E_CACHE          where setup.sh put the binaries
//	CLUSTER_CONTAINERD_VERSION   containerd to run (default v2.4.2)
//	CLUSTER_KUBERNETES_VERSION   Kubernetes binaries (default v1.37.2)
//	CLUSTER_KEEP                 keep the bed's root directory after the run
package cluster

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nri-guard/nri-guard/e2e/internal/testhost"
)

var (
	repoRoot          = mustAbs("../..")
	cacheDir          = envOr("NRI_GUARD_E2E_CACHE", filepath.Join(os.Getenv("HOME"), ".cache", "nri-guard-e2e"))
	containerdVersion = envOr("CLUSTER_CONTAINERD_VERSION", "v2.4.2")
	kubeVersion       = envOr("CLUSTER_KUBERNETES_VERSION", "v1.37.2")
	etcdVersion       = envOr("CLUSTER_ETCD_VERSION", "v3.6.16")

	kubeBin       = filepath.Join(cacheDir, "kubernetes-"+kubeVersion)
	etcdBin       = filepath.Join(cacheDir, "etcd-"+etcdVersion, "etcd")
	containerdBin = filepath.Join(cacheDir, "containerd-"+containerdVersion)
	runcBin       = filepath.Join(cacheDir, "runc-v1.5.3", "runc")
	cniBinDir     = envOr("NRI_GUARD_E2E_CNI_BIN", "/usr/lib/cni")

	// The one bed of the run, brought up by TestMain.
	node *bed

	passed, failed atomic.Int64
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Println("e2e-cluster: must run as root (mounts, network namespaces, cgroups)")
		fmt.Println("0 passed, 1 failed")
		os.Exit(1)
	}
	sweepStaleBeds()
	testhost.TearDownBeforeEnd("e2e-cluster", 45*time.Second, func(code int) {
		failed.Add(1)
		finish(code)
	})

	start := time.Now()
	var err error
	node, err = startBed()
	if err != nil {
		fmt.Printf("e2e-cluster: bed: %v\n", err)
		failed.Add(1)
		finish(1)
	}
	fmt.Printf("e2e-cluster: phase bed-up %.1fs (node Ready, default ServiceAccount present)\n", time.Since(start).Seconds())
	testsStart := time.Now()
	code := m.Run()
	fmt.Printf("e2e-cluster: phase tests %.1fs\n", time.Since(testsStart).Seconds())
	finish(code)
}

var finishOnce sync.Mutex

// finish tears the bed down and prints the summary as the last line. A
// signal or the timeout may call it while tests run; whoever comes second
// blocks until the first has exited the process.
func finish(code int) {
	finishOnce.Lock()
	if node != nil {
		t0 := time.Now()
		if leaks := node.teardown(); len(leaks) > 0 {
			fmt.Printf("e2e-cluster: teardown had to remove by force: %v\n", leaks)
			failed.Add(1)
		}
		fmt.Printf("e2e-cluster: phase teardown %.1fs\n", time.Since(t0).Seconds())
	}
	if failed.Load() > 0 && code == 0 {
		code = 1
	}
	fmt.Printf("%d passed, %d failed\n", passed.Load(), failed.Load())
	os.Exit(code)
}

// count records a top-level test's outcome for the summary line; a
// skipped test counts as neither.
func count(t *testing.T) {
	switch {
	case t.Failed():
		failed.Add(1)
	case t.Skipped():
	default:
		passed.Add(1)
	}
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func readFile(p string) string {
	data, _ := os.ReadFile(p)
	return string(data)
}
