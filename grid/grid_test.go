package grid_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/internal/stall"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

func echo(ctx context.Context, payload []byte) ([]byte, error) {
	return append([]byte("echo:"), payload...), nil
}

func TestLinksFormOncePerPair(t *testing.T) {
	var greeted [3]int
	ms := cluster(t, 3, steadyConfig, func(i int, m *grid.Manager) { m.Handle("echo", echo) })
	awaitAll(t, ms, 5*time.Second)
	for i, m := range ms {
		for _, l := range m.Links() {
			if l.Dialer {
				greeted[i]++
			}
		}
	}
	// Each pair has one dialer, agreed on by both sides.
	for i, a := range ms {
		for j, b := range ms {
			if i >= j {
				continue
			}
			ab, ba := linkInfo(t, a, b.Self()), linkInfo(t, b, a.Self())
			if ab.Dialer == ba.Dialer {
				t.Errorf("%s and %s: dialer %v and %v, want exactly one", a.Self(), b.Self(), ab.Dialer, ba.Dialer)
			}
		}
	}
	if total := greeted[0] + greeted[1] + greeted[2]; total != 3 {
		t.Errorf("%d dialed links, want 3 (one per pair)", total)
	}
	for _, m := range ms {
		if n := m.SessionCount(); n != 2 {
			t.Errorf("%s holds %d sessions, want 2", m.Self(), n)
		}
	}
	// Every side calls every other over its one link.
	for _, a := range ms {
		for _, b := range ms {
			if a == b {
				continue
			}
			reply, err := conn(t, a, b).Request(context.Background(), "echo", []byte(a.Self()))
			if err != nil || string(reply) != "echo:"+a.Self() {
				t.Errorf("%s -> %s: %q, %v", a.Self(), b.Self(), reply, err)
			}
		}
	}
}

func linkInfo(t *testing.T, m *grid.Manager, host string) grid.LinkInfo {
	t.Helper()
	for _, l := range m.Links() {
		if l.Host == host {
			return l
		}
	}
	t.Fatalf("%s has no link to %s", m.Self(), host)
	return grid.LinkInfo{}
}

func TestRequestErrorsAndTypes(t *testing.T) {
	type sum struct{ A, B int }
	ms := cluster(t, 2, steadyConfig, func(i int, m *grid.Manager) {
		m.Handle("echo", echo)
		m.Handle("fail", func(ctx context.Context, payload []byte) ([]byte, error) {
			return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "no %s", payload)
		})
		grid.HandleFunc(m, "add", func(ctx context.Context, s sum) (int, error) { return s.A + s.B, nil })
	})
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])
	ctx := context.Background()

	if n, err := grid.Call[int](ctx, c, "add", sum{2, 3}); err != nil || n != 5 {
		t.Errorf("add: %d, %v", n, err)
	}
	_, err := c.Request(ctx, "fail", []byte("way"))
	if rpc.CodeOf(err) != rpc.CodeFailedPrecondition || !strings.Contains(err.Error(), "no way") {
		t.Errorf("fail: %v (code %v)", err, rpc.CodeOf(err))
	}
	if _, err := c.Request(ctx, "missing", nil); !errors.Is(err, rpc.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := grid.Call[int](ctx, c, "add", "not a sum"); !errors.Is(err, rpc.ErrInvalidArgument) {
		t.Errorf("add with a bad payload: %v", err)
	}
	big := bytes.Repeat([]byte{7}, 1<<20)
	if reply, err := c.Request(ctx, "echo", big); err != nil || !bytes.Equal(reply[5:], big) {
		t.Errorf("echo of 1 MiB: %d bytes, %v", len(reply), err)
	}
	if _, err := ms[0].Connection(ms[0].Self()); !errors.Is(err, grid.ErrUnknownHost) {
		t.Errorf("Connection(self): %v", err)
	}
	if _, err := ms[0].Connection("tcp://192.0.2.1:1"); !errors.Is(err, grid.ErrUnknownHost) {
		t.Errorf("Connection(stranger): %v", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []grid.Config{
		{Self: "nope://x"},
		{Self: "tcp://127.0.0.1:1", Hosts: []string{"::bad"}},
	} {
		if _, err := grid.New(cfg); !errors.Is(err, grid.ErrBadConfig) {
			t.Errorf("New(%+v): %v, want ErrBadConfig", cfg, err)
		}
	}
}

func TestDeadlineAndCancelReachHandler(t *testing.T) {
	// Room for more than the two calls: a handler must never block on
	// them, or the managers' Close would wait for it.
	type start struct{ deadline, at time.Time }
	started := make(chan start, 4)
	ended := make(chan error, 4)
	ms := cluster(t, 2, steadyConfig, func(i int, m *grid.Manager) {
		m.Handle("wait", func(ctx context.Context, payload []byte) ([]byte, error) {
			d, _ := ctx.Deadline()
			started <- start{d, time.Now()}
			<-ctx.Done()
			ended <- ctx.Err()
			return nil, ctx.Err()
		})
	})
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])

	// The deadline travels: the handler's is the caller's, and its ctx
	// ends with it. A request that reaches the server past its deadline
	// runs no handler, so the deadline must be longer than the time the
	// scheduler may take from the process before the call is on the
	// wire: on a machine loaded 25 times over, 300 ms was not (the
	// process lost 464 ms, and the handler never started).
	meter := meterStalls(t)
	sent := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err := c.Request(ctx, "wait", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request past its deadline: %v", err)
	}
	st := receive(t, started, fmt.Sprintf("the handler's start (%v lost to the scheduler)", meter.Lost()))
	lost := meter.Lost()
	t.Logf("the handler started %v after the request, its deadline %v after the caller's (%v lost to the scheduler)", st.at.Sub(sent), st.deadline.Sub(deadline), lost)
	// The timeout travels, not the time: the server's deadline is the
	// caller's plus the call's time on the way, which the process spends
	// running or waiting for the CPU.
	if st.deadline.IsZero() {
		t.Error("the handler's context has no deadline")
	} else if late := st.deadline.Sub(deadline); late < -time.Millisecond || late > 100*time.Millisecond+lost {
		t.Errorf("the handler's deadline is %v after the caller's, want 0 to 100 ms (+%v lost to the scheduler)", late, lost)
	}
	if err := receive(t, ended, "the end of the handler's ctx"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("handler's ctx: %v, want deadline exceeded", err)
	}

	// Cancelling the caller cancels the handler.
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, "wait", nil)
		errc <- err
	}()
	receive(t, started, "the start of the handler to cancel")
	cancel()
	if err := receive(t, errc, "the cancelled request's end"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v", err)
	}
	if err := receive(t, ended, "the end of the cancelled handler's ctx"); !errors.Is(err, context.Canceled) {
		t.Errorf("handler's ctx: %v, want canceled", err)
	}
}

// receive returns the next value of ch, failing the test if none comes
// within 10 s: what the test waits for happens in well under a second,
// so a wait that long means it will not happen.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
		panic("unreachable")
	}
}

func TestUnavailableWhileDown(t *testing.T) {
	// The other host never runs: whoever dials keeps failing, and
	// requests fail at once.
	ln, self := listen(t)
	gone, absent := listen(t)
	gone.Close()
	m, err := grid.New(grid.Config{Self: self, Hosts: []string{self, absent}, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := conn(t, m, mustManager(t, absent))
	meter := meterStalls(t)
	start := time.Now()
	_, err = c.Request(context.Background(), "echo", nil)
	if !errors.Is(err, grid.ErrUnavailable) || rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("request on a link that never came up: %v (code %v)", err, rpc.CodeOf(err))
	}
	if _, err := c.Stream(context.Background(), "s", nil); !errors.Is(err, grid.ErrUnavailable) {
		t.Errorf("stream on a link that never came up: %v", err)
	}
	if d, lost := time.Since(start), meter.Lost(); d > 100*time.Millisecond+lost {
		t.Errorf("failing took %v, want at once (within 100 ms, +%v lost to the scheduler)", d, lost)
	}
}

// mustManager returns a manager (never started) known by addr, to name it.
func mustManager(t *testing.T, addr string) *grid.Manager {
	t.Helper()
	m, err := grid.New(grid.Config{Self: addr})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSilentPeer freezes the connection between two hosts without closing
// it: both sides find the link dead within PingInterval+PingTimeout, the
// request in flight fails with unavailable on the caller's side, the
// handler's context ends on the other, and the link comes back when the
// connection thaws (the dialer redials).
func TestSilentPeer(t *testing.T) {
	lns := make([]transport.Listener, 2)
	proxies := make([]*stall.Relay, 2)
	hosts := make([]string, 2)
	for i := range lns {
		var real string
		lns[i], real = listen(t)
		r, err := stall.New(strings.TrimPrefix(real, "tcp://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		proxies[i] = r
		hosts[i] = "tcp://" + r.Addr()
	}
	started := make(chan struct{}, 1)
	handlerEnded := make(chan error, 1)
	// A ping timeout of 1 s, not fastConfig's 200 ms: the links formed
	// after the thaw must stay up for the requests that check them, and
	// on a loaded machine the process can get no CPU for longer than
	// 200 ms, which closes a link as a silent peer does.
	cfg := fastConfig
	cfg.PingTimeout = time.Second
	ms := start(t, cfg, lns, hosts, func(i int, m *grid.Manager) {
		m.Handle("echo", echo)
		m.Handle("block", func(ctx context.Context, payload []byte) ([]byte, error) {
			started <- struct{}{}
			<-ctx.Done()
			handlerEnded <- ctx.Err()
			return nil, ctx.Err()
		})
	})
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])

	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(context.Background(), "block", nil)
		errc <- err
	}()
	<-started
	meter := meterStalls(t)
	frozen := time.Now()
	for _, p := range proxies {
		p.Pause(true)
	}
	bound := cfg.PingInterval + cfg.PingTimeout
	// slack is for the work between the ping's timeout and the ends
	// checked; the time the scheduler took from the process (lost) is
	// added to it.
	slack := 100 * time.Millisecond
	select {
	case err := <-errc:
		if !errors.Is(err, grid.ErrUnavailable) || rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("request on the lost link: %v (code %v)", err, rpc.CodeOf(err))
		}
		d, lost := time.Since(frozen), meter.Lost()
		t.Logf("the request failed after %v (%v lost to the scheduler)", d, lost)
		if d > bound+slack+lost {
			t.Errorf("the request failed after %v, want within %v (+%v slack, +%v lost to the scheduler)", d, bound, slack, lost)
		}
	case <-time.After(10 * bound):
		t.Fatalf("the request on the silent link did not fail within %v", 10*bound)
	}
	select {
	case err := <-handlerEnded:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler's ctx: %v", err)
		}
		if d, lost := time.Since(frozen), meter.Lost(); d > bound+slack+lost {
			t.Errorf("the handler's ctx ended after %v, want within %v (+%v slack, +%v lost to the scheduler)", d, bound, slack, lost)
		}
	case <-time.After(10 * bound):
		t.Fatal("the handler on the other side was not cancelled")
	}
	st := awaitStatus(t, c, grid.Disconnected, bound+slack+meter.Lost())
	if st.Err == nil {
		t.Error("a disconnected link without its error")
	}
	if _, err := c.Request(context.Background(), "echo", nil); !errors.Is(err, grid.ErrUnavailable) {
		t.Errorf("request while down: %v", err)
	}

	for _, p := range proxies {
		p.Pause(false)
	}
	awaitAll(t, ms, 5*time.Second)
	for i, a := range ms {
		reply, err := conn(t, a, ms[1-i]).Request(context.Background(), "echo", []byte("back"))
		if err != nil || string(reply) != "echo:back" {
			t.Errorf("after the thaw, %d: %q, %v", i, reply, err)
		}
	}
}

// TestRestart closes one host and starts a new manager on its address: the
// other finds the link lost and the new host's link forms by itself.
func TestRestart(t *testing.T) {
	lns := make([]transport.Listener, 2)
	hosts := make([]string, 2)
	lns[0], hosts[0] = listen(t)
	lns[1], hosts[1] = listenOutsideEphemeral(t) // the host that restarts
	ms := start(t, fastConfig, lns, hosts, func(i int, m *grid.Manager) { m.Handle("echo", echo) })
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])
	addr := ms[1].Self()
	ms[1].Close()
	awaitStatus(t, c, grid.Disconnected, 2*time.Second)

	ln, err := transport.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig
	cfg.Self, cfg.Hosts, cfg.Listener = addr, []string{ms[0].Self(), addr}, ln
	m, err := grid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Handle("echo", echo)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, c, grid.Connected, 5*time.Second)
	if reply, err := c.Request(context.Background(), "echo", []byte("x")); err != nil || string(reply) != "echo:x" {
		t.Errorf("after the restart: %q, %v", reply, err)
	}
}

// TestStrangerRefused greets a host as a host it does not know, and calls
// a handler without greeting: both are refused.
func TestStrangerRefused(t *testing.T) {
	ms := cluster(t, 2, steadyConfig, func(i int, m *grid.Manager) { m.Handle("echo", echo) })
	awaitAll(t, ms, 5*time.Second)
	sess, err := transport.Dial(context.Background(), ms[0].Self())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	client := rpc.NewClient(sess)
	ctx := context.Background()
	if _, err := client.Call(ctx, "grid:req:echo", []byte("x"), nil); !errors.Is(err, rpc.ErrPermissionDenied) {
		t.Errorf("request without a greeting: %v", err)
	}
	hello := map[string]string{"from": "tcp://192.0.2.1:1", "to": ms[0].Self()}
	if _, err := client.Call(ctx, "grid:hello", hello, nil); !errors.Is(err, rpc.ErrPermissionDenied) {
		t.Errorf("greeting from a stranger: %v", err)
	}
	hello = map[string]string{"from": ms[1].Self(), "to": "tcp://192.0.2.1:1"}
	if _, err := client.Call(ctx, "grid:hello", hello, nil); !errors.Is(err, rpc.ErrPermissionDenied) {
		t.Errorf("greeting for another host: %v", err)
	}
}

func TestStreams(t *testing.T) {
	ms := cluster(t, 2, steadyConfig, func(i int, m *grid.Manager) {
		// upper answers each request with it in capitals, then its count.
		m.HandleStream("upper", grid.StreamHandler{Requests: 4, Responses: 2,
			Serve: func(ctx context.Context, payload []byte, in <-chan []byte, out chan<- []byte) error {
				n := 0
				for b := range in {
					n++
					select {
					case out <- bytes.ToUpper(append(append([]byte{}, payload...), b...)):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				select {
				case out <- []byte(fmt.Sprint(n)):
				case <-ctx.Done():
				}
				return nil
			}})
		// count sends payload-many responses, then fails.
		m.HandleStream("count", grid.StreamHandler{Responses: 1,
			Serve: func(ctx context.Context, payload []byte, in <-chan []byte, out chan<- []byte) error {
				for i := range int(payload[0]) {
					select {
					case out <- []byte{byte(i)}:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return rpc.Errorf(rpc.CodeAborted, "counted")
			}})
	})
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])
	ctx := context.Background()

	s, err := c.Stream(ctx, "upper", []byte("x-"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"a", "b", "c"} {
		if err := s.Send(ctx, []byte(w)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Recv(ctx)
		if err != nil || string(got) != "X-"+strings.ToUpper(w) {
			t.Fatalf("Recv: %q, %v", got, err)
		}
	}
	s.CloseSend()
	if got, err := s.Recv(ctx); err != nil || string(got) != "3" {
		t.Errorf("count: %q, %v", got, err)
	}
	if _, err := s.Recv(ctx); err != io.EOF {
		t.Errorf("end of the stream: %v, want io.EOF", err)
	}
	s.Close()

	s, err = c.Stream(ctx, "count", []byte{3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Send(ctx, []byte("x")); !errors.Is(err, grid.ErrNoRequests) {
		t.Errorf("Send on a stream without requests: %v", err)
	}
	for i := range 3 {
		if got, err := s.Recv(ctx); err != nil || !bytes.Equal(got, []byte{byte(i)}) {
			t.Fatalf("Recv %d: %v, %v", i, got, err)
		}
	}
	if _, err := s.Recv(ctx); rpc.CodeOf(err) != rpc.CodeAborted {
		t.Errorf("end of a failed stream: %v", err)
	}
}

// TestStreamBounded checks that a handler that does not read holds the
// caller's Send up instead of letting requests pile up, and that closing
// the stream cancels the handler once it reads again.
func TestStreamBounded(t *testing.T) {
	ended := make(chan error, 1)
	release := make(chan struct{})
	ms := cluster(t, 2, steadyConfig, func(i int, m *grid.Manager) {
		m.HandleStream("sink", grid.StreamHandler{Requests: 1,
			Serve: func(ctx context.Context, payload []byte, in <-chan []byte, out chan<- []byte) error {
				<-release // reads nothing until then
				for range in {
				}
				<-ctx.Done()
				ended <- ctx.Err()
				return nil
			}})
	})
	// A failure below must fail the test, not hang it: the managers'
	// Close, in their cleanups, waits for the handler, which waits for
	// release. This cleanup runs before theirs.
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce)
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])
	s, err := c.Stream(context.Background(), "sink", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Requests of 64 KiB: the session's window and the two queues of one
	// take a bounded number before Send blocks.
	chunk := make([]byte, 64<<10)
	sent := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := s.Send(ctx, chunk)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if sent > 1000 {
			t.Fatal("64 MiB sent to a handler that reads nothing")
		}
	}
	t.Logf("Send blocked after %d requests of 64 KiB", sent)
	s.Close()
	releaseOnce()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler's ctx after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's ctx did not end within 10s of Close")
	}
}

// TestPingTimeoutWithoutTheCall holds a ping's call past its timeout, as
// a call slow to return on a silent link would:
// the ping must fail once PingTimeout has passed anyway, and the link go
// down within PingInterval+PingTimeout of the call being held, not when
// the call returns.
func TestPingTimeoutWithoutTheCall(t *testing.T) {
	var hold atomic.Bool
	held := make(chan struct{}, 1)
	release := make(chan struct{})
	ms := cluster(t, 2, fastConfig, func(i int, m *grid.Manager) {
		m.Handle("echo", echo)
		if i != 0 {
			return
		}
		grid.WrapPing(m, func(ctx context.Context, call func(context.Context) error) error {
			if !hold.Load() {
				return call(ctx)
			}
			select {
			case held <- struct{}{}:
			default:
			}
			<-release // a call that does not return, whatever ctx says
			return ctx.Err()
		})
	})
	// Registered after the managers' Close: runs before them, which wait
	// for the held calls.
	t.Cleanup(func() { close(release) })
	awaitAll(t, ms, 5*time.Second)
	c := conn(t, ms[0], ms[1])

	meter := meterStalls(t)
	held0 := time.Now()
	hold.Store(true)
	// A ping sent before the hold may still be answered, as late as
	// PingTimeout after the hold; the next ping, held, starts within
	// PingInterval of the last and times out PingTimeout later.
	bound := max(fastConfig.PingInterval, fastConfig.PingTimeout) + fastConfig.PingTimeout
	st := awaitStatus(t, c, grid.Disconnected, 5*time.Second)
	d, lost := time.Since(held0), meter.Lost()
	select {
	case <-held:
	default:
		t.Fatal("the link went down without a held ping")
	}
	if !errors.Is(st.Err, grid.ErrPingTimeout) {
		t.Errorf("link down with %v, want %v", st.Err, grid.ErrPingTimeout)
	}
	slack := 100 * time.Millisecond
	if d > bound+slack+lost {
		t.Errorf("the link went down %v after its pings were held, want within %v (+%v slack, +%v lost to the scheduler)", d, bound, slack, lost)
	}
}
