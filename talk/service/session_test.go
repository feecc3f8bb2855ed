package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

// waiterModule has one call, wait, that returns "ended" once the server
// runs the module's OnShutdown functions, and tells waiterStarted that it
// began.
const waiterModule = "example.net/waiter"

var waiterStarted = make(chan struct{}, 16)

func init() {
	service.RegisterModule(waiterModule, func(m *service.Module) error {
		shutdown := make(chan struct{})
		var once sync.Once
		m.OnShutdown(func() { once.Do(func() { close(shutdown) }) })
		m.HandleFunc("wait", func(r rpc.Responder, c *rpc.Call) {
			waiterStarted <- struct{}{}
			select {
			case <-shutdown:
				r.Return("ended")
			case <-c.Context().Done():
				r.Error(c.Context().Err())
			}
		})
		return nil
	})
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// records returns the JSON records written, by message.
func (b *lockedBuffer) records(t *testing.T) map[string][]map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(b.b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out[rec["msg"].(string)] = append(out[rec["msg"].(string)], rec)
	}
	return out
}

// A server logs its listeners and sessions with numbered ids, the
// listened address in full, the calls at level debug, and durations as
// text; WithSessionEnded hears of each session's end, and WithMetrics
// counts the sessions and calls.
func TestSessionLog(t *testing.T) {
	cfg, err := config.Parse([]byte(`listen = ["tcp://127.0.0.1:0"]
[services]
chat = { provider = "local", module = "`+chatModule+`" }
`), "qtalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	var buf lockedBuffer
	ended := make(chan string, 1)
	m := &metrics.Metrics{}
	srv, err := service.New(cfg,
		service.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		service.WithSessionEnded(func(listen string) { ended <- listen }),
		service.WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	p := dial(t, addrOf(srv))
	mustCall(t, p, "chat:whoami?p=1", nil)
	p.Close()
	select {
	case listen := <-ended:
		if listen != "tcp://127.0.0.1:0" {
			t.Errorf("WithSessionEnded got %q, want the config's address", listen)
		}
	case <-time.After(testTimeout):
		t.Fatal("the session's end was not told")
	}
	var scrape bytes.Buffer
	m.WriteTo(&scrape)
	for _, want := range []string{"qtalk_sessions_total 1\n", "qtalk_sessions_open 0\n", `qtalk_calls_total{service="chat",code="ok"} 1` + "\n"} {
		if !strings.Contains(scrape.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, scrape.String())
		}
	}
	srv.Close()

	recs := buf.records(t)
	check := func(msg string, want map[string]any) map[string]any {
		t.Helper()
		if len(recs[msg]) != 1 {
			t.Fatalf("%d records %q, want 1: %v", len(recs[msg]), msg, recs)
		}
		rec := recs[msg][0]
		for k, v := range want {
			if rec[k] != v {
				t.Errorf("record %q has %s=%v, want %v: %v", msg, k, rec[k], v, rec)
			}
		}
		return rec
	}
	check("listening", map[string]any{"type": "listener", "id": 1.0, "addr": addrOf(srv)})
	check("session opened", map[string]any{"type": "session", "id": 1.0, "listener": 1.0})
	check("call", map[string]any{"level": "DEBUG", "type": "session", "id": 1.0, "selector": "chat:whoami?p=1", "code": "ok"})
	for _, msg := range []string{"call", "session closed"} {
		d, _ := check(msg, map[string]any{"type": "session", "id": 1.0})["duration"].(string)
		if _, err := time.ParseDuration(d); err != nil {
			t.Errorf("record %q: duration %q is not a duration as text", msg, d)
		}
	}
}

// Shutdown runs the modules' OnShutdown functions once it takes no more
// calls, so that a long call they end does not hold it until its
// deadline.
func TestOnShutdown(t *testing.T) {
	srv, _ := startServer(t, `listen = ["tcp://127.0.0.1:0"]
[services]
waiter = { provider = "local", module = "`+waiterModule+`" }
`)
	p := dial(t, addrOf(srv))
	got := make(chan string, 1)
	go func() {
		s, err := call(t, p, "waiter:wait", nil)
		if err != nil {
			s = err.Error()
		}
		got <- s
	}()
	<-waiterStarted
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v, want the call ended by OnShutdown", err)
	}
	if s := <-got; s != "ended" {
		t.Errorf("the call got %q, want ended", s)
	}
}
