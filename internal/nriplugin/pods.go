package nriplugin

import (
	"os"
	"strconv"
	"sync"

	"github.com/containerd/nri/pkg/api"
)

// pods is the plugin's view of the node's live pod sandboxes, kept from
// NRI's lifecycle events. It exists because a pod's UID is the CRI
// client's word: a client that names another pod's UID would otherwise
// mount that pod's kubelet volumes (pods/<uid>/...) as its own. Kubelet
// never keeps two live sandboxes of one pod (it stops the old before it
// runs the new), so a UID that two live sandboxes hold is not credited to
// either. It is written by lifecycle events and read by creations, under
// its own lock; the policy state is never touched.
type pods struct {
	mu sync.Mutex
	// live maps a running sandbox's ID to the UID it claimed.
	live map[string]string
}

func newPods() *pods { return &pods{live: map[string]string{}} }

// synchronize replaces the view with the runtime's list. containerd lists
// stopped sandboxes too; one whose pause process is gone is not live.
func (p *pods) synchronize(list []*api.PodSandbox) {
	live := make(map[string]string, len(list))
	for _, pod := range list {
		if sandboxRunning(pod) {
			live[pod.GetId()] = pod.GetUid()
		}
	}
	p.mu.Lock()
	p.live = live
	p.mu.Unlock()
}

// sandboxRunning reports whether a listed sandbox's process still exists. A
// runtime that reports no pid leaves the question open: count it live,
// the side that credits less.
func sandboxRunning(pod *api.PodSandbox) bool {
	pid := pod.GetPid()
	if pid == 0 {
		return true
	}
	_, err := os.Stat("/proc/" + strconv.FormatUint(uint64(pid), 10))
	return err == nil
}

func (p *pods) run(pod *api.PodSandbox) {
	p.mu.Lock()
	p.live[pod.GetId()] = pod.GetUid()
	p.mu.Unlock()
}

func (p *pods) stop(pod *api.PodSandbox) {
	p.mu.Lock()
	delete(p.live, pod.GetId())
	p.mu.Unlock()
}

// doubt says why pod's UID is not credited to it ("" when it is): another
// live sandbox holds the same UID. A sandbox the plugin has not seen
// (its event raced this request) is added: it is running, or no
// container could be created in it.
func (p *pods) doubt(pod *api.PodSandbox) string {
	uid, id := pod.GetUid(), pod.GetId()
	if uid == "" {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.live[id]; !seen {
		p.live[id] = uid
	}
	for other, otherUID := range p.live {
		if other != id && otherUID == uid {
			return "pod sandbox " + other + " holds the same pod UID " + strconv.Quote(uid) + " (kubelet never runs two sandboxes of one pod)"
		}
	}
	return ""
}
