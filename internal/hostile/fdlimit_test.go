package hostile_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// logWatch collects what a child writes to stderr and tells when a line
// with a given text has appeared.
type logWatch struct {
	mu    sync.Mutex
	lines []string
	want  string
	seen  chan struct{}
	once  sync.Once
}

func (w *logWatch) run(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		w.mu.Lock()
		w.lines = append(w.lines, sc.Text())
		w.mu.Unlock()
		if strings.Contains(sc.Text(), w.want) {
			w.once.Do(func() { close(w.seen) })
		}
	}
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// TestOutOfFileDescriptors: more connections than the server process may
// hold files for. The accept loop rides it out with backoff, logs it
// once, and serves a good client as soon as the attacker leaves (the
// default `qtalk serve` exited; with --config the loop stopped for good).
func TestOutOfFileDescriptors(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=fdlimit")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1) // cmd.Wait's result, once
	reaped := make(chan struct{}) // closed once cmd.Wait returned
	logs := &logWatch{want: "accept failed", seen: make(chan struct{})}
	logsDone := make(chan struct{})
	go func() { logs.run(stderr); close(logsDone) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-logsDone
		<-reaped
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { exited <- cmd.Wait(); close(reaped) }()
	if err != nil {
		t.Fatalf("the child printed no address: %v\n%s", err, logs)
	}
	addr = strings.TrimSpace(addr)

	// The attack: three times the child's file limit in connections,
	// held until the child reports running out.
	var attack []net.Conn
	for range 3 * childFiles {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break // the listen backlog is full: enough
		}
		attack = append(attack, c)
	}
	select {
	case <-logs.seen:
	case err := <-exited:
		t.Fatalf("the server exited under the attack: %v\n%s", err, logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not report running out of files with %d connections\n%s", len(attack), logs)
	}
	for _, c := range attack {
		c.Close()
	}

	// The attacker left: a good client's calls succeed.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := transport.Dial(ctx, "tcp://"+addr)
	if err != nil {
		t.Fatalf("dial after the attack: %v\n%s", err, logs)
	}
	defer sess.Close()
	client := rpc.NewClient(sess)
	for i := range 10 {
		var got int
		if _, err := client.Call(ctx, "echo", i, &got); err != nil || got != i {
			t.Fatalf("call %d after the attack: %d, %v\n%s", i, got, err, logs)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the server exited: %v\n%s", err, logs)
	default:
	}
	if n := strings.Count(logs.String(), "accept failed"); n > 3 {
		t.Errorf("running out of files was logged %d times, want once per 10 s\n%s", n, logs)
	}
}
