package hostile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport"
)

const echoModule = "example.net/hostile/echo"

func init() {
	service.RegisterModule(echoModule, func(m *service.Module) error {
		m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
			var v any
			if err := c.Receive(&v); err != nil {
				r.Error(err)
				return
			}
			r.Return(v)
		})
		return nil
	})
}

// syncBuffer is a log sink for a server's JSON records.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// records returns the records with message msg.
func (b *syncBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// A gateway is a talk/service server (what qtalk serve --config runs)
// with a local echo service and a process service whose exec: child
// exits at once, and a good client calling echo:echo all along.
type gateway struct {
	addr string
	log  *syncBuffer
	runs string // the file the child appends a line to at each start
	// ended hears of each client session's end, after its "session
	// closed" record was logged; a full buffer drops the news, as those
	// waiting in it cover it.
	ended chan struct{}

	good *goodClient
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	dir := t.TempDir()
	g := &gateway{log: &syncBuffer{}, runs: filepath.Join(dir, "runs"), ended: make(chan struct{}, 16)}
	script := filepath.Join(dir, "crash.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho run >> '"+g.runs+"'\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `listen = ["tcp://127.0.0.1:0"]
[limits]
reconnect_min = "50ms"
reconnect_max = "1m"
[services]
echo = { provider = "local", module = %q }
crash = { provider = "exec:'%s'" }
`, echoModule, script), "hostile.toml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := service.New(cfg, service.WithLogger(slog.New(slog.NewJSONHandler(g.log, nil))),
		service.WithSessionEnded(func(string) {
			select {
			case g.ended <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	g.addr = "tcp://" + srv.Addrs()[0].String()
	p, err := talk.Dial(ctx, g.addr)
	if err != nil {
		t.Fatal(err)
	}
	g.good = startGoodClient(ctx, func(ctx context.Context, i int) (got int, err error) {
		_, err = p.Call(ctx, "echo:echo", i, &got)
		return got, err
	})
	t.Cleanup(func() {
		// The good client calls once at least, however quick the attack.
		select {
		case <-g.good.firstCall:
		case <-time.After(20 * time.Second):
		}
		cancel()
		g.good.check(t)
		p.Close()
		srv.Close()
	})
	return g
}

// settleGoroutines waits, for a generous bound, until the process is back
// to at most n goroutines (plus goodSlack).
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	n += goodSlack
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("after the attack: %d goroutines, want at most %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting for one to happen by itself
	}
}

// TestHugeSelector: a 4 MiB selector to the gateway was answered with an
// 8 MiB error frame quoting it twice, past the 4 MiB frame limit clients
// enforce. The error now quotes a bounded prefix: a few hundred bytes.
func TestHugeSelector(t *testing.T) {
	g := startGateway(t)
	baseGoroutines := runtime.NumGoroutine()
	sess, err := transport.Dial(context.Background(), g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	modules := []string{"nosuch", "echo", "crash"}
	got := allocatedDuring(func() { hugeSelectors(t, sess, modules) })
	// The frames themselves: 4 MiB each written, read, buffered, copied,
	// about 30 MiB a call over the whole process (90-92 MiB for the three
	// under -race; once 97, and 108-112 with both cores loaded 30 times
	// over: the count is the whole process's). The 8 MiB error frame
	// quoting the selector twice added at least 16 MiB a call on top (46
	// or more); the bound sits between, and the answer's length is checked
	// on its own in hugeSelectors.
	const perCall = 42 * MiB
	if got > uint64(len(modules))*perCall {
		t.Errorf("%d calls with a 4 MiB selector allocated %d MiB, want under %d", len(modules), got/MiB, len(modules)*perCall/MiB)
	}
	sess.Close()
	settleGoroutines(t, baseGoroutines)
}

// hugeSelectors calls a 4 MiB selector of each module on sess and checks
// that each answer is a short error.
func hugeSelectors(t *testing.T, sess mux.Session, modules []string) {
	t.Helper()
	for _, module := range modules {
		selector := module + ":" + strings.Repeat("x", 4<<20-64)
		ch, err := sess.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// The gateway answers the CALL frame without reading the value
		// after it, and closes the channel: the last bytes of the Write
		// may then find it closed, waiting for window the gateway no
		// longer gives. The answer is still there to read.
		if _, err := ch.Write(append(callFrame(selector, 0, 0), cborNull...)); err != nil && !errors.Is(err, mux.ErrChannelClosed) {
			t.Fatalf("%s: writing the call: %v", module, err)
		}
		ch.SetReadDeadline(time.Now().Add(20 * time.Second))
		answer, err := io.ReadAll(ch)
		if err != nil {
			t.Fatalf("%s: reading the answer: %v", module, err)
		}
		ch.Close()
		if len(answer) == 0 || len(answer) > 2048 {
			t.Errorf("%s: a 4 MiB selector got an answer of %d bytes, want an error of a few hundred", module, len(answer))
		}
		if !bytes.Contains(answer, []byte(" more bytes)")) {
			t.Errorf("%s: the answer %q does not quote a bounded prefix of the selector", module, answer)
		}
	}
}

// TestExecUpstreamExits: an exec: upstream that exits at once was
// spawned 113 times in 1.8 s from 5 calls. The restarts now back off:
// waits of 50, 100, 200, 400, 800 ms leave room for at most 6 runs in 2 s
// (with their ±20% jitter, 7), however many calls come.
func TestExecUpstreamExits(t *testing.T) {
	g := startGateway(t)
	baseGoroutines := runtime.NumGoroutine()
	p, err := talk.Dial(context.Background(), g.addr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := p.Call(ctx, "crash:hello", "x", nil)
		cancel()
		if code := rpc.CodeOf(err); code != rpc.CodeUnavailable {
			t.Fatalf("a call to a child that exits at once: %v (%v), want unavailable", err, code)
		}
	}
	elapsed := time.Since(start)
	// The most runs the waits allow in that time, at their shortest.
	most, wait := 1, 40*time.Millisecond
	for sum := wait; sum <= elapsed; sum += wait {
		most++
		wait *= 2
	}
	runs, _ := os.ReadFile(g.runs)
	if n := bytes.Count(runs, []byte("run\n")); n == 0 || n > most {
		t.Errorf("the child ran %d times in %v of calls, want 1 to %d", n, elapsed, most)
	}
	p.Close()
	settleGoroutines(t, baseGoroutines)
}

// TestProtocolErrorLogged: any protocol error once logged "session
// closed duration=..." with no reason. It is now logged at WARN with its
// reason and detail.
func TestProtocolErrorLogged(t *testing.T) {
	g := startGateway(t)
	baseGoroutines := runtime.NumGoroutine()
	c, err := net.Dial("tcp", hostPort(g.addr))
	if err != nil {
		t.Fatal(err)
	}
	// A valid OPEN, then a message type qmux does not have.
	c.Write([]byte{100, 0, 0, 0, 7, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0xee})
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	c.Close()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case <-g.ended:
		case <-timeout:
			t.Fatalf("no session closed with reason protocol error in the log:\n%s", g.log.records(t, "session closed"))
		}
		for _, rec := range g.log.records(t, "session closed") {
			if rec["reason"] == "protocol error" {
				if rec["level"] != "WARN" || !strings.Contains(fmt.Sprint(rec["error"]), "unknown message type 238") {
					t.Errorf("the protocol error was logged as %v, want WARN and its detail", rec)
				}
				settleGoroutines(t, baseGoroutines)
				return
			}
		}
	}
}
