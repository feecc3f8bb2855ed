package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	muxquic "github.com/qtalkkit/qtalk/mux/quic"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport"
	tquic "github.com/qtalkkit/qtalk/transport/quic"
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

// loggingServer starts a server of the chat module listening on listen
// with opts, which logs in JSON to buf and tells ended of each session's
// end; it is closed when the test ends.
func loggingServer(t *testing.T, listen string, opts ...transport.Option) (srv *service.Server, buf *lockedBuffer, ended chan string) {
	t.Helper()
	cfg, err := config.Parse([]byte(`listen = ["`+listen+`"]
[services]
chat = { provider = "local", module = "`+chatModule+`" }
`), "qtalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	buf = new(lockedBuffer)
	ended = make(chan string, 1)
	srv, err = service.New(cfg,
		service.WithLogger(slog.New(slog.NewJSONHandler(buf, nil))),
		service.WithSessionEnded(func(listen string) { ended <- listen }),
		service.WithListenOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return srv, buf, ended
}

// A session that ends is logged with why: a peer that closed it at INFO,
// a protocol error with its detail and a silent peer at WARN, an idle
// session let go at INFO.
func TestSessionCloseReasons(t *testing.T) {
	srv, buf, ended := loggingServer(t, "tcp://127.0.0.1:0",
		transport.WithIdleTimeout(time.Second),
		transport.WithSessionConfig(&qmux.Config{KeepAlivePeriod: 50 * time.Millisecond, KeepAliveTimeout: 150 * time.Millisecond}))
	hostport := srv.Addrs()[0].String()
	rawConn := func() net.Conn {
		c, err := net.Dial("tcp", hostport)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for i, c := range []struct {
		name   string
		run    func()
		level  string
		reason string
		detail string // in the error attribute
	}{
		{"peer closed", func() {
			p, err := talk.Dial(testCtx(t), addrOf(srv))
			if err != nil {
				t.Fatal(err)
			}
			mustCall(t, p, "chat:whoami?p=1", nil)
			p.Close()
		}, "INFO", "peer closed", ""},
		{"protocol error", func() {
			rawConn().Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		}, "WARN", "protocol error", "does not speak qmux"},
		{"silent peer", func() { rawConn() }, "WARN", "keepalive timeout", "keepalive timeout"},
		{"idle", func() {
			// A live peer (its session answers the server's probes)
			// that makes no call.
			s, err := transport.Dial(testCtx(t), addrOf(srv), transport.WithSessionConfig(&qmux.Config{KeepAlivePeriod: -1}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
		}, "INFO", "idle timeout", "idle timeout"},
	} {
		c.run()
		select {
		case <-ended:
		case <-time.After(testTimeout):
			t.Fatalf("%s: the session did not end", c.name)
		}
		recs := buf.records(t)["session closed"]
		if len(recs) != i+1 {
			t.Fatalf("%s: %d records of a session closed, want %d", c.name, len(recs), i+1)
		}
		rec := recs[i]
		if rec["level"] != c.level || rec["reason"] != c.reason {
			t.Errorf("%s: logged at %v with reason %v, want %s and %q: %v", c.name, rec["level"], rec["reason"], c.level, c.reason, rec)
		}
		if e, _ := rec["error"].(string); !strings.Contains(e, c.detail) {
			t.Errorf("%s: error %q, want it to say %q", c.name, e, c.detail)
		}
	}
}

// A QUIC session with no call is let go by the listener's idle timeout,
// logged at INFO as qmux's are, though QUIC's keep-alives flow.
func TestSessionIdleQUIC(t *testing.T) {
	srv, buf, ended := loggingServer(t, "quic://127.0.0.1:0",
		transport.WithIdleTimeout(time.Second),
		tquic.WithConfig(&muxquic.Config{KeepAlivePeriod: 50 * time.Millisecond}))
	s, err := transport.Dial(testCtx(t), "quic://"+srv.Addrs()[0].String(), transport.WithInsecureSkipVerify())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case <-ended:
	case <-time.After(testTimeout):
		t.Fatal("the session did not end")
	}
	recs := buf.records(t)["session closed"]
	if len(recs) != 1 {
		t.Fatalf("%d records of a session closed, want 1", len(recs))
	}
	if rec := recs[0]; rec["level"] != "INFO" || rec["reason"] != "idle timeout" {
		t.Errorf("logged at %v with reason %v, want INFO and \"idle timeout\": %v", rec["level"], rec["reason"], rec)
	}
	if err := s.Wait(); !errors.Is(err, io.EOF) {
		t.Errorf("the client's session: %v, want io.EOF (closed by the server)", err)
	}
}

// The reasons of the ends the tests above do not provoke.
func TestEndReason(t *testing.T) {
	for _, c := range []struct {
		err    error
		level  slog.Level
		reason string
	}{
		{nil, slog.LevelInfo, "closed"},
		{fmt.Errorf("qmux: connection closed by peer: %w", io.EOF), slog.LevelInfo, "peer closed"},
		{fmt.Errorf("x: %w", qmux.ErrWriteTimeout), slog.LevelWarn, "write timeout"},
		{qmux.ErrPeerNotReading, slog.LevelWarn, "limit"},
		{muxquic.ErrKeepAliveTimeout, slog.LevelWarn, "timeout"},
		{errors.New("read: connection reset"), slog.LevelWarn, "error"},
	} {
		if level, reason := service.EndReason(c.err); level != c.level || reason != c.reason {
			t.Errorf("EndReason(%v) = %v, %q; want %v, %q", c.err, level, reason, c.level, c.reason)
		}
	}
}
