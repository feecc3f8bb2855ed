//go:build netns

package netns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/service"
)

// requireRoot fails the test when it cannot make namespaces.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the netns tests make network namespaces and veth pairs: run them as root (sudo go test -tags netns ./internal/netns)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("the netns tests need iproute2's ip: apt-get install iproute2")
	}
}

// run runs a command and fails the test if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// A network is a bridge in the test's namespace with a namespace per host
// on it, addressed 10.201.N.i/24.
type network struct {
	t      *testing.T
	id     string // unique to the test run, in every name
	subnet string // "10.201.N"
	bridge string
}

func newNetwork(t *testing.T, hosts int) *network {
	t.Helper()
	requireRoot(t)
	pid := os.Getpid()
	n := &network{t: t, id: fmt.Sprintf("%05d", pid%100000), subnet: fmt.Sprintf("10.201.%d", pid%250)}
	n.bridge = "qb" + n.id
	run(t, "ip", "link", "add", n.bridge, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", n.bridge).Run() })
	run(t, "ip", "addr", "add", n.subnet+".254/24", "dev", n.bridge)
	run(t, "ip", "link", "set", n.bridge, "up")
	for i := 1; i <= hosts; i++ {
		ns, veth, peer := n.ns(i), n.veth(i), fmt.Sprintf("qp%s%d", n.id, i)
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
		t.Cleanup(func() { exec.Command("ip", "link", "del", veth).Run() })
		run(t, "ip", "link", "set", peer, "netns", ns)
		run(t, "ip", "netns", "exec", ns, "ip", "link", "set", peer, "name", "eth0")
		run(t, "ip", "netns", "exec", ns, "ip", "addr", "add", n.addr(i)+"/24", "dev", "eth0")
		run(t, "ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
		run(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
		run(t, "ip", "link", "set", veth, "master", n.bridge)
		run(t, "ip", "link", "set", veth, "up")
	}
	return n
}

func (n *network) ns(i int) string   { return fmt.Sprintf("qn%s-%d", n.id, i) }
func (n *network) veth(i int) string { return fmt.Sprintf("qv%s%d", n.id, i) }
func (n *network) addr(i int) string { return fmt.Sprintf("%s.%d", n.subnet, i) }

// setLink sets host i's veth up or down: down, the host goes silent
// without anything being closed.
func (n *network) setLink(i int, up bool) {
	state := "down"
	if up {
		state = "up"
	}
	run(n.t, "ip", "link", "set", n.veth(i), state)
}

// A node is a qtalk serve process in a namespace.
type node struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
}

// start runs bin serve --config file in namespace ns, logging JSON on
// stderr, which the test reads with logged.
func start(t *testing.T, bin, ns, file string) *node {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, bin, "serve", "--log-format", "json", "--config", file)
	nd := &node{cmd: cmd, stderr: new(bytes.Buffer), done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: nd.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(nd.done) }()
	t.Cleanup(func() {
		nd.kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", ns, cmd.Stderr.(*lockedWriter).String())
		}
	})
	return nd
}

// logged returns the time of the first record the node logged with the
// message msg and the attribute host, at or after after: the time the node
// itself saw the event, however late the test looks.
func (nd *node) logged(msg, host string, after time.Time) (time.Time, bool) {
	for line := range strings.Lines(nd.cmd.Stderr.(*lockedWriter).String()) {
		var r struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
			Host string    `json:"host"`
		}
		if json.Unmarshal([]byte(line), &r) != nil || r.Msg != msg || r.Host != host {
			continue
		}
		if !r.Time.Before(after) {
			return r.Time, true
		}
	}
	return time.Time{}, false
}

func (nd *node) kill() {
	nd.cmd.Process.Signal(syscall.SIGCONT)
	nd.cmd.Process.Kill()
	<-nd.done
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// buildQtalk builds cmd/qtalk into the test's temp dir.
func buildQtalk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "qtalk")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/qtalk")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/qtalk: %v\n%s", err, out)
	}
	return bin
}

// callGuard bounds a call to a live host's qtalk:grid: a guard against a
// hang, not a measure (under -race on a loaded machine a dial and call
// were seen to take more than 500 ms).
const callGuard = 5 * time.Second

// links asks the server at addr for qtalk:grid, by host.
func links(addr string) (map[string]grid.LinkInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callGuard)
	defer cancel()
	p, err := talk.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var ls []grid.LinkInfo
	if _, err := p.Call(ctx, service.LabelGrid, nil, &ls); err != nil {
		return nil, err
	}
	out := map[string]grid.LinkInfo{}
	for _, l := range ls {
		out[l.Host] = l
	}
	return out, nil
}

// mustLinks is links of a host that is up and reachable, where a failed
// call is not one the protocol allows: it fails the test.
func mustLinks(t *testing.T, addr string) map[string]grid.LinkInfo {
	t.Helper()
	ls, err := links(addr)
	if err != nil {
		t.Fatalf("qtalk:grid of %s: %v", addr, err)
	}
	return ls
}

// await polls until cond holds, for at most within, and returns how long
// it took.
func await(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		<-tick.C
	}
	return time.Since(start)
}
