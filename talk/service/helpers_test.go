package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

// testTimeout bounds every wait of the tests, so that a hang fails the
// test instead of the run.
const testTimeout = 10 * time.Second

// The modules of the tests.
const (
	chatModule   = "example.net/chat"
	flakyModule  = "example.net/flaky"
	brokenModule = "example.net/broken"
)

// chatCalls counts the calls the chat modules served, over all instances.
var chatCalls atomic.Int64

// holding gets a value each time a chat module's hold starts.
var holding = make(chan struct{}, 64)

func init() {
	service.RegisterModule(chatModule, newChat)
	service.RegisterModule(flakyModule, newFlaky)
	service.RegisterModule(brokenModule, func(m *service.Module) error {
		return errors.New("no database")
	})
}

// newChat makes the chat module:
//
//	whoami       the service's name, the label's parameter p and the
//	             option greeting: "chat p=x hi"
//	send s       emits message with s, returns "sent: s"
//	flood n      emits tick n times, with 0..n-1, returns "flooded"
//	count n      streams 0..n-1
//	echo         a bidirectional stream: sends back each value until END
//	hold         a unary call that is not answered until it is canceled
//	upper        a raw channel: reads to EOF, writes the bytes upper-cased
//	quiet        a raw channel: half-closes at once, then reads to EOF
//	close        closes the module
func newChat(m *service.Module) error {
	greeting, _ := m.Options()["greeting"].(string)
	m.HandleFunc("whoami", func(r rpc.Responder, c *rpc.Call) {
		chatCalls.Add(1)
		l, err := talk.LabelOf(c)
		if err != nil {
			r.Error(err)
			return
		}
		p, _ := l.Params.Get("p")
		r.Return(fmt.Sprintf("%s p=%s %s", m.Name(), p, greeting))
	})
	m.HandleFunc("send", func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		if err := m.Emit("message", s); err != nil {
			r.Error(err)
			return
		}
		r.Return("sent: " + s)
	})
	m.HandleFunc("flood", func(r rpc.Responder, c *rpc.Call) {
		var n int
		if err := c.Receive(&n); err != nil {
			r.Error(err)
			return
		}
		for i := range n {
			if err := m.Emit("tick", i); err != nil {
				r.Error(err)
				return
			}
		}
		r.Return("flooded")
	})
	m.HandleFunc("count", func(r rpc.Responder, c *rpc.Call) {
		var n int
		if err := c.Receive(&n); err != nil {
			r.Error(err)
			return
		}
		r.Continue(nil)
		for i := range n {
			if r.Send(i) != nil {
				return
			}
		}
	})
	m.HandleFunc("hold", func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		holding <- struct{}{}
		<-c.Context().Done()
		r.Error(context.Cause(c.Context()))
	})
	m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		r.Continue(nil)
		for {
			var v any
			if err := c.Receive(&v); err != nil {
				if err != io.EOF {
					r.Error(err)
				}
				return
			}
			if r.Send(v) != nil {
				return
			}
		}
	})
	m.HandleChannel("upper", talk.ChannelHandlerFunc(func(ctx context.Context, conn mux.Channel, l label.Label) {
		data, _ := io.ReadAll(conn)
		conn.Write([]byte(strings.ToUpper(string(data))))
	}))
	m.HandleChannel("quiet", talk.ChannelHandlerFunc(func(ctx context.Context, conn mux.Channel, l label.Label) {
		conn.CloseWrite()
		io.Copy(io.Discard, conn)
	}))
	m.HandleFunc("close", func(r rpc.Responder, c *rpc.Call) {
		r.Return(m.Close())
	})
	return nil
}

// newFlaky makes a module whose get and put fail with unavailable every
// other call (the first one of each pair), counting per name.
func newFlaky(m *service.Module) error {
	var mu sync.Mutex
	calls := map[string]int{}
	flaky := func(r rpc.Responder, c *rpc.Call) {
		mu.Lock()
		calls[c.Selector]++
		n := calls[c.Selector]
		mu.Unlock()
		if n%2 == 1 {
			r.Error(rpc.Errorf(rpc.CodeUnavailable, "try again"))
			return
		}
		r.Return(n)
	}
	m.HandleFunc("get", flaky)
	m.HandleFunc("put", flaky)
	return nil
}

// logRecorder is a slog.Handler that keeps the messages of the records,
// for tests that wait for one, and passes them to the test's log.
type logRecorder struct {
	t       testing.TB
	mu      sync.Mutex
	msgs    []string      // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced on each record
	done    bool          // guarded by mu; the test is over
}

func newLogRecorder(t testing.TB) *logRecorder {
	lr := &logRecorder{t: t, changed: make(chan struct{})}
	t.Cleanup(func() {
		lr.mu.Lock()
		lr.done = true
		lr.mu.Unlock()
	})
	return lr
}

func (lr *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (lr *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return lr } // attributes are not checked
func (lr *logRecorder) WithGroup(string) slog.Handler            { return lr }

func (lr *logRecorder) Handle(_ context.Context, r slog.Record) error {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if !lr.done {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		lr.t.Logf("log: %s%s", r.Message, b.String())
	}
	lr.msgs = append(lr.msgs, r.Message)
	close(lr.changed)
	lr.changed = make(chan struct{})
	return nil
}

// count returns how many records had the message msg.
func (lr *logRecorder) count(msg string) int {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	n := 0
	for _, m := range lr.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// waitCount waits until n records had the message msg.
func (lr *logRecorder) waitCount(t *testing.T, msg string, n int) {
	t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for {
		lr.mu.Lock()
		changed := lr.changed
		lr.mu.Unlock()
		if lr.count(msg) >= n {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("timed out waiting for log message %q #%d", msg, n)
		}
	}
}

// startServer starts a server for the config text, listening on what it
// says, closed when the test ends.
func startServer(t testing.TB, text string, opts ...service.Option) (*service.Server, *logRecorder) {
	t.Helper()
	cfg, err := config.Parse([]byte(text), t.Name()+".toml")
	if err != nil {
		t.Fatal(err)
	}
	lr := newLogRecorder(t)
	srv, err := service.New(cfg, append([]service.Option{service.WithLogger(slog.New(lr))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return srv, lr
}

// addrOf returns the tcp address of srv's first listener.
func addrOf(srv *service.Server) string { return "tcp://" + srv.Addrs()[0].String() }

// dial connects a client to addr, closed when the test ends.
func dial(t testing.TB, addr string) *talk.Peer {
	t.Helper()
	p, err := talk.Dial(testCtx(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// testCtx returns a context that bounds a wait of the test.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// call calls sel with args on p and returns the string reply.
func call(t *testing.T, p *talk.Peer, sel string, args any, opts ...rpc.CallOption) (string, error) {
	t.Helper()
	var s string
	_, err := p.Call(testCtx(t), sel, args, &s, opts...)
	return s, err
}

// mustCall is call failing the test on an error.
func mustCall(t *testing.T, p *talk.Peer, sel string, args any) string {
	t.Helper()
	s, err := call(t, p, sel, args)
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// subscribe subscribes to service on p, closed when the test ends.
func subscribe(t *testing.T, p *talk.Peer, service_ string) *service.Subscription {
	t.Helper()
	sub, err := service.Subscribe(testCtx(t), p.Client(), service_)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// expectEvent reads the next event of sub and checks its name.
func expectEvent(t *testing.T, sub *service.Subscription, name string) service.Event {
	t.Helper()
	ev, err := sub.Next()
	if err != nil {
		t.Fatalf("waiting for event %s: %v", name, err)
	}
	if ev.Name != name {
		t.Fatalf("got event %s (%v), want %s", ev.Name, ev.Param, name)
	}
	return ev
}

// freePort returns a loopback TCP address nothing listens on (it was
// free a moment ago).
func freePort(t *testing.T) string {
	t.Helper()
	srv, _ := startServer(t, `listen = "tcp://127.0.0.1:0"`)
	addr := srv.Addrs()[0].String()
	srv.Close()
	return addr
}

// checkCode checks that err has the code want.
func checkCode(t *testing.T, what string, err error, want rpc.Code) {
	t.Helper()
	if got := rpc.CodeOf(err); got != want {
		t.Errorf("%s: %v (%s), want %s", what, err, got, want)
	}
}

// discard is a logger that logs nothing.
var discard = slog.New(slog.DiscardHandler)
