//go:build e2e

package e2e

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// workloadImages is where e2e/images/build.sh put the images.
var workloadImages = filepath.Join(cacheDir, "images")

// workload is one image of e2e/images/build.sh, run as a pod with the
// image's own user and entrypoint, and the check of its own answer.
type workload struct {
	name, ref string
	check     func(t *testing.T, e *env, id string, pid int) error
}

// TestWorkloadImages runs each workload image under nri-guard with the
// e2e default policy (enforce) and asks the workload itself: an HTTP
// body, a SQL row, PONG, a DNS answer. No pod gives its image a volume:
// what nginx and PostgreSQL write (/run/nginx, /var/lib/nginx,
// /var/log/nginx, /run/postgresql, the data directory under /var/lib)
// lands on the read-only root's scratch tmpfs, so the images run as
// their authors wrote them.
func TestWorkloadImages(t *testing.T) {
	if _, err := os.Stat(filepath.Join(workloadImages, "index.txt")); err != nil {
		t.Skip("no workload images: run e2e/images/build.sh")
	}
	workloads := []workload{
		{"nginx", "localhost/e2e/nginx:1.22.1", httpBody(80, "nri-guard e2e nginx page")},
		{"pyweb", "localhost/e2e/pyweb:3.11", httpBody(8080, "nri-guard e2e pyweb")},
		{"redis", "localhost/e2e/redis:7.0.15", redisPing},
		{"postgres", "localhost/e2e/postgres:15", postgresSelect},
		{"coredns", "localhost/e2e/coredns:1.14.7", dnsAnswer("web.e2e.test.", "198.18.0.77")},
	}
	// The newest and the oldest containerd of the matrix: their NRI views
	// differ most, and the images' imports (postgres is 266 MB) are the
	// suite's slowest step.
	eachVersionOf(t, []string{versions[0], versions[len(versions)-1]}, func(t *testing.T, e *env, tag string) {
		for _, w := range workloads {
			tar := filepath.Join(workloadImages, w.name+".tar")
			if _, err := os.Stat(tar); err != nil {
				t.Errorf("%s: no image %s", w.name, tar)
				continue
			}
			if out, err := runIn(e, filepath.Join(e.bin, "ctr"), "--address", e.path("containerd.sock"), "-n", "k8s.io", "images", "import", tar); err != nil {
				t.Fatalf("importing %s: %v\n%s", tar, err, out)
			}
		}
		for _, w := range workloads {
			t.Run(w.name, func(t *testing.T) {
				name := "wl-" + w.name + "-" + tag
				p := e.newPod("default", name, false)
				defer p.remove()
				id := startImage(t, e, p, w.ref, nil)
				pid := containerPid(t, e, id)
				var err error
				if !pollUntil(60*time.Second, func() bool { err = w.check(t, e, id, pid); return err == nil }) {
					logs := tail(filepath.Join(p.dir, "c1.log"), 10)
					t.Fatalf("%s did not answer: %v\ncontainer log:\n%s\ndecisions: %v", w.name, err, logs, e.decisionsFor(name))
				}
				t.Logf("containerd %s: %s answered", e.version, w.name)
			})
		}
	})
}

func runIn(e *env, name string, args ...string) (string, error) {
	out, err := e.inNamespace(name, args...).CombinedOutput()
	return string(out), err
}

// startImage creates and starts a container running the image's own
// entrypoint and user (no command, no run_as_user).
func startImage(t *testing.T, e *env, p *pod, ref string, mounts []any) string {
	t.Helper()
	if p.runErr != nil {
		t.Fatal(p.runErr)
	}
	cfg := map[string]any{
		"metadata": map[string]any{"name": "c1"},
		"image":    map[string]any{"image": ref},
		"log_path": "c1.log",
		"mounts":   mounts,
		"linux": map[string]any{"security_context": map[string]any{
			"namespace_options": map[string]any{"pid": 1},
			"masked_paths":      kubeletMaskedPaths,
			"readonly_paths":    kubeletReadonlyPaths,
		}},
	}
	writeJSON(t, filepath.Join(p.dir, "c1.json"), cfg)
	id, err := e.crictl("create", p.id, filepath.Join(p.dir, "c1.json"), filepath.Join(p.dir, "pod.json"))
	if err != nil {
		t.Fatalf("create %s: %v\ndecisions: %v", ref, err, e.decisionsFor(p.name))
	}
	if _, err := e.crictl("start", id); err != nil {
		t.Fatalf("start %s: %v\ndecisions: %v", ref, err, e.decisionsFor(p.name))
	}
	return id
}

func containerPid(t *testing.T, e *env, id string) int {
	t.Helper()
	out, err := e.crictl("inspect", id)
	must(t, err)
	var info struct{ Info struct{ Pid int } }
	must(t, json.Unmarshal([]byte(out), &info))
	if info.Info.Pid == 0 {
		t.Fatalf("no pid for %s", id)
	}
	return info.Info.Pid
}

// dialIn connects from inside the network namespace of process pid (the
// pod's): the socket is made on a locked thread moved into that
// namespace and moved back after. The thread must survive: the suite's
// daemons were started with a parent-death signal, which fires when the
// thread that forked them exits, and that may be this one.
func dialIn(pid int, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer unix.Close(own)
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		c, err := net.DialTimeout(network, addr, 3*time.Second)
		if unix.Setns(own, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked and dies with the goroutine
		ch <- result{c, err}
	}()
	r := <-ch
	if r.c != nil {
		r.c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	return r.c, r.err
}

func httpBody(port int, want string) func(*testing.T, *env, string, int) error {
	return func(t *testing.T, e *env, id string, pid int) error {
		c, err := dialIn(pid, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: e2e\r\n\r\n")
		resp, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		_, body, _ := strings.Cut(string(resp), "\r\n\r\n")
		if strings.TrimSpace(body) != want || !strings.HasPrefix(string(resp), "HTTP/1.") || !strings.Contains(strings.SplitN(string(resp), "\n", 2)[0], " 200 ") {
			return fmt.Errorf("answer %q, want 200 and body %q", resp, want)
		}
		return nil
	}
}

func redisPing(t *testing.T, e *env, id string, pid int) error {
	c, err := dialIn(pid, "tcp", "127.0.0.1:6379")
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(c, "*1\r\n$4\r\nPING\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// postgresSelect asks the server through the image's own psql.
func postgresSelect(t *testing.T, e *env, id string, pid int) error {
	out, err := e.crictl("exec", id, "psql", "-h", "/run/postgresql", "-U", "postgres", "-tAc", "SELECT 40 + 2")
	if err != nil {
		return err
	}
	if out != "42" {
		return fmt.Errorf("SELECT 40 + 2 answered %q", out)
	}
	return nil
}

// dnsAnswer asks for name's A record over UDP and wants ip in the answer.
func dnsAnswer(name, ip string) func(*testing.T, *env, string, int) error {
	return func(t *testing.T, e *env, id string, pid int) error {
		c, err := dialIn(pid, "udp", "127.0.0.1:53")
		if err != nil {
			return err
		}
		defer c.Close()
		q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0} // id, RD, one question
		for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
			q = append(append(q, byte(len(label))), label...)
		}
		q = append(q, 0, 0, 1, 0, 1) // root, type A, class IN
		if _, err := c.Write(q); err != nil {
			return err
		}
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		r := buf[:n]
		if n < 12 || r[0] != 0x12 || r[1] != 0x34 || r[3]&0x0f != 0 || binary.BigEndian.Uint16(r[6:]) == 0 {
			return fmt.Errorf("DNS reply %x: no answer", r)
		}
		want := net.ParseIP(ip).To4()
		for i := 12; i+4 <= n; i++ {
			if string(r[i:i+4]) == string(want) && i >= 2 && binary.BigEndian.Uint16(r[i-2:]) == 4 {
				return nil
			}
		}
		return fmt.Errorf("DNS reply %x lacks %s", r, ip)
	}
}
