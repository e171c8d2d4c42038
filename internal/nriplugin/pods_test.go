package nriplugin

import (
	"os"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
)

func sandbox(id, uid string, pid uint32) *api.PodSandbox {
	return &api.PodSandbox{Id: id, Uid: uid, Name: id, Namespace: "default", Pid: pid}
}

// TestPodUIDClaims: a UID two live sandboxes hold is credited to neither;
// once kubelet's old sandbox stops, the new one has it alone.
func TestPodUIDClaims(t *testing.T) {
	p := newPods()
	victim, thief, other := sandbox("victim", "uid-1", 0), sandbox("thief", "uid-1", 0), sandbox("other", "uid-2", 0)
	p.run(victim)
	p.run(other)
	if d := p.doubt(victim); d != "" {
		t.Fatalf("a UID held once is in doubt: %s", d)
	}
	p.run(thief)
	for _, pod := range []*api.PodSandbox{thief, victim} {
		if d := p.doubt(pod); !strings.Contains(d, "holds the same pod UID \"uid-1\"") {
			t.Errorf("%s: a UID two live sandboxes hold is not in doubt: %q", pod.Id, d)
		}
	}
	if d := p.doubt(other); d != "" {
		t.Errorf("another UID is in doubt: %s", d)
	}
	p.stop(victim)
	if d := p.doubt(thief); d != "" {
		t.Errorf("after the other sandbox stopped: %s", d)
	}
	// A sandbox whose event the plugin missed counts from its first request.
	late := sandbox("late", "uid-1", 0)
	if d := p.doubt(late); d == "" {
		t.Error("an unseen sandbox claiming a held UID is credited")
	}
	if d := p.doubt(sandbox("nouid", "", 0)); d != "" {
		t.Errorf("a pod without a UID: %s", d)
	}
}

// TestSynchronizeSkipsDeadSandboxes: containerd lists stopped sandboxes
// too; one whose pause process is gone does not hold its UID.
func TestSynchronizeSkipsDeadSandboxes(t *testing.T) {
	p := newPods()
	self := uint32(os.Getpid())
	p.synchronize([]*api.PodSandbox{sandbox("old", "uid-1", 1<<30), sandbox("new", "uid-1", self), sandbox("twin", "uid-2", self), sandbox("twin2", "uid-2", 0)})
	if d := p.doubt(sandbox("new", "uid-1", self)); d != "" {
		t.Errorf("a dead sandbox still holds the UID: %s", d)
	}
	if d := p.doubt(sandbox("twin", "uid-2", self)); d == "" {
		t.Error("two live sandboxes (one without a pid) share a UID, and neither is in doubt")
	}
}
