package rpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// ctxReport is what a handler saw of its context's end.
type ctxReport struct {
	err         error // Call.Context().Err()
	derived     error // the Err of a context.WithCancel child
	afterFunc   bool  // a context.AfterFunc callback ran
	deadline    time.Time
	hasDeadline bool
}

// watchContext blocks until the handler's context ends (and a derived
// context and an AfterFunc callback with it), then reports.
func watchContext(c *rpc.Call) ctxReport {
	ctx := c.Context()
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ran) })
	<-ctx.Done()
	<-child.Done()
	<-ran
	d, ok := ctx.Deadline()
	return ctxReport{err: ctx.Err(), derived: child.Err(), afterFunc: true, deadline: d, hasDeadline: ok}
}

// startWatching starts a server whose handler reports what it saw of its
// context's end, then waits for the test to end (the client must not need
// it to return); started is closed when the handler starts.
func startWatching(t *testing.T, tc transportCase) (h *harness, started <-chan struct{}, reports <-chan ctxReport) {
	start := make(chan struct{})
	report := make(chan ctxReport, 1)
	release := make(chan struct{})
	h = startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
		close(start)
		report <- watchContext(c)
		<-release
	})
	t.Cleanup(func() { close(release) }) // before the harness's, which waits for the handler
	return h, start, report
}

func TestClientCancelCancelsHandler(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h, started, reports := startWatching(t, tc)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := h.client.Call(ctx, "wait", nil, nil)
			errc <- err
		}()
		waitFor(t, started, "the handler to start")
		cancel()
		err := waitFor(t, errc, "the cancelled call to return")
		if !errors.Is(err, context.Canceled) || rpc.CodeOf(err) != rpc.CodeCanceled {
			t.Fatalf("client got %v, want context.Canceled", err)
		}
		rep := waitFor(t, reports, "the handler's context to end")
		if !errors.Is(rep.err, context.Canceled) || !errors.Is(rep.derived, context.Canceled) {
			t.Fatalf("handler context ended with %v, derived with %v", rep.err, rep.derived)
		}
		if rep.hasDeadline {
			t.Fatalf("a call without a deadline has deadline %v on the server", rep.deadline)
		}
	})
}

// The deadline travels with the call: the handler sees it, its context
// ends, and the client's call fails with DeadlineExceeded. The deadline
// passes once the handler has started (heldDeadline), so the client's
// cancel ends the handler's context; TestDeadlineFromHeader checks the
// server's own timer. 200 ms on the clock passed over QUIC
// under the race detector on a loaded machine before the server had the
// call, and the handler never ran.
func TestDeadline(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		reports := make(chan ctxReport, 1)
		started := make(chan time.Time, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			started <- time.Now()
			rep := watchContext(c)
			reports <- rep
			r.Error(rep.err)
		})
		ctx := newHeldDeadline(t, context.Background())
		clientDeadline, _ := ctx.Deadline()
		called := time.Now()
		errc := make(chan error, 1)
		go func() {
			_, err := h.client.Call(ctx, "slow", nil, nil)
			errc <- err
		}()
		way := waitFor(t, started, "the handler's start").Sub(called)
		ctx.expire()
		if err := waitFor(t, errc, "the call's end"); !errors.Is(err, context.DeadlineExceeded) || rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
			t.Fatalf("client got %v, want deadline exceeded", err)
		}
		rep := waitFor(t, reports, "the handler's context to end")
		if !rep.hasDeadline {
			t.Fatal("the handler's context has no deadline")
		}
		// The server's deadline runs from the call's header: later than
		// the client's by the header's way there, which is over before
		// the handler starts.
		if d := rep.deadline.Sub(clientDeadline); d < 0 || d > way {
			t.Errorf("server deadline %v from the client's, the handler started %v after the call", d, way)
		}
		if rep.err == nil || rep.derived == nil {
			t.Errorf("handler context ended with %v (derived %v)", rep.err, rep.derived)
		}
	})
}

// gatedSession holds Accept until gate is closed: the server takes up a
// call only after the test lets it.
type gatedSession struct {
	mux.Session
	gate chan struct{}
}

func (s gatedSession) Accept(ctx context.Context) (mux.Channel, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Session.Accept(ctx)
}

// A call whose client gave up because its deadline passed must end the
// handler's context with DeadlineExceeded, not Canceled, even when the
// client's close reaches the server before the server's own timer fires
// (here: the server takes the call up late, as a busy server does).
func TestDeadlineReasonReachesHandler(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		reports := make(chan ctxReport, 1)
		srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			reports <- watchContext(c)
		})}
		gate := make(chan struct{})
		served := make(chan struct{})
		go func() {
			defer close(served)
			srv.ServeSession(gatedSession{ss, gate})
		}()
		defer func() {
			cs.Close()
			ss.Close()
			<-served
			srv.Shutdown(context.Background())
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := rpc.NewClient(cs).Call(ctx, "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("client got %v, want deadline exceeded", err)
		}
		close(gate)
		rep := waitFor(t, reports, "the handler's context to end")
		if !errors.Is(rep.err, context.DeadlineExceeded) {
			t.Fatalf("the client's deadline passed, but the handler's context ended with %v", rep.err)
		}
	})
}

// The timeout in the call header alone ends the handler's context with
// DeadlineExceeded, while the client keeps the channel open.
func TestDeadlineFromHeader(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		reports := make(chan ctxReport, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			rep := watchContext(c)
			reports <- rep
			r.Error(rep.err)
		})
		msg := appendFrame(nil, kindCall, callPayload("slow", "cbor", 50*time.Millisecond))
		msg = appendFrame(msg, kindValue, []byte{0xf6}) // CBOR null
		ch := rawCall(t, h.cs, msg)
		rep := waitFor(t, reports, "the handler's context to end")
		if !rep.hasDeadline || !errors.Is(rep.err, context.DeadlineExceeded) || !errors.Is(rep.derived, context.DeadlineExceeded) {
			t.Fatalf("handler context: deadline %v, ended with %v (derived %v)", rep.hasDeadline, rep.err, rep.derived)
		}
		kind, p, err := readFrame(ch)
		if err != nil || kind != kindReply {
			t.Fatalf("reply frame: kind %d, %v", kind, err)
		}
		_, werr, err := parseReplyHeader(p)
		if err != nil || werr == nil || rpc.Code(werr.code) != rpc.CodeDeadlineExceeded {
			t.Fatalf("reply header %x: %v, %+v", p, err, werr)
		}
	})
}

// When the client's session dies mid-call, the handler's context ends.
func TestSessionDeathCancelsHandler(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		started := make(chan struct{})
		reports := make(chan ctxReport, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			close(started)
			reports <- watchContext(c)
		})
		errc := make(chan error, 1)
		go func() {
			_, err := h.client.Call(context.Background(), "wait", nil, nil)
			errc <- err
		}()
		waitFor(t, started, "the handler to start")
		h.cs.Close()
		err := waitFor(t, errc, "the call to fail")
		if !errors.Is(err, mux.ErrSessionClosed) || rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Fatalf("client got %v, want a closed-session error", err)
		}
		rep := waitFor(t, reports, "the handler's context to end")
		if !errors.Is(rep.err, context.Canceled) || !errors.Is(rep.derived, context.Canceled) {
			t.Fatalf("handler context ended with %v, derived with %v", rep.err, rep.derived)
		}
	})
}

// Cancelling a call whose client already streamed values must still end
// the handler's context, even while the handler is not reading.
func TestCancelAfterStreaming(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		reports := make(chan ctxReport, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			r.Continue(nil)
			var v int
			if err := c.Receive(&v); err != nil {
				return
			}
			r.Send(v)
			reports <- watchContext(c)
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := h.client.Call(ctx, "stream", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		resp.Send(7)
		var v int
		if err := resp.Receive(&v); err != nil || v != 7 {
			t.Fatalf("echo: %d, %v", v, err)
		}
		cancel()
		rep := waitFor(t, reports, "the handler's context to end after the client cancelled")
		if !errors.Is(rep.err, context.Canceled) {
			t.Fatalf("handler context ended with %v", rep.err)
		}
	})
}

// The handler's context ends when it returns, which stops work it started.
func TestContextEndsWhenHandlerReturns(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ctxs := make(chan context.Context, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			ctxs <- c.Context()
			r.Return(nil)
		})
		if _, err := h.client.Call(context.Background(), "x", nil, nil); err != nil {
			t.Fatal(err)
		}
		ctx := <-ctxs
		waitFor(t, ctx.Done(), "the context of a finished call to end")
		ran := make(chan struct{})
		context.AfterFunc(ctx, func() { close(ran) }) // registered after the end: runs at once
		waitFor(t, ran, "an AfterFunc registered on an ended call context")
	})
}

// A handler that looks at its context only after the client cancelled
// still sees why: the server watches the client once the context is
// looked at, not necessarily before.
func TestCancelSeenByLateLook(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		started := make(chan struct{})
		look := make(chan struct{})
		reports := make(chan ctxReport, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			close(started)
			<-look
			reports <- watchContext(c)
		})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := h.client.Call(ctx, "late", nil, nil)
			errc <- err
		}()
		waitFor(t, started, "the handler to start")
		cancel()
		waitFor(t, errc, "the cancelled call to return")
		close(look)
		rep := waitFor(t, reports, "the handler's context to end")
		if !errors.Is(rep.err, context.Canceled) || !errors.Is(rep.derived, context.Canceled) {
			t.Fatalf("handler context ended with %v, derived with %v", rep.err, rep.derived)
		}
	})
}

// Looking at the context from another goroutine while the handler reads
// a stream takes nothing from the stream, and the context still ends when
// the client cancels.
func TestContextLookedAtDuringReceive(t *testing.T) {
	const values = 200
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		got := make(chan int, values)
		ended := make(chan error, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			if r.Continue(nil) != nil {
				return
			}
			go func() {
				<-c.Context().Done()
				ended <- c.Context().Err()
			}()
			for {
				var v int
				if err := c.Receive(&v); err != nil {
					return
				}
				got <- v
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := h.client.Call(ctx, "sink", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		for i := range values {
			if err := resp.Send(i); err != nil {
				t.Fatal(err)
			}
		}
		for i := range values {
			if v := waitFor(t, got, "a value"); v != i {
				t.Fatalf("value %d arrived as %d", i, v)
			}
		}
		cancel()
		if err := waitFor(t, ended, "the handler's context to end"); !errors.Is(err, context.Canceled) {
			t.Fatalf("handler context ended with %v", err)
		}
	})
}

// stuckSession is a session whose channels' Writes, once stuck is
// closed, wait until release is closed, deadlines or not: a connection that
// takes nothing more. closed is closed by the first channel's Close.
type stuckSession struct {
	mux.Session
	stuck, release, closed chan struct{}
	closeOnce              sync.Once
}

func (s *stuckSession) Open(ctx context.Context) (mux.Channel, error) {
	ch, err := s.Session.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &stuckChannel{Channel: ch, s: s}, nil
}

type stuckChannel struct {
	mux.Channel
	s *stuckSession
}

func (c *stuckChannel) Write(p []byte) (int, error) {
	select {
	case <-c.s.stuck:
		<-c.s.release
	default:
	}
	return c.Channel.Write(p)
}

func (c *stuckChannel) Close() error {
	c.s.closeOnce.Do(func() { close(c.s.closed) })
	return c.Channel.Close()
}

// A cancelled call returns at once, even when its CANCEL cannot be sent
// yet; the channel is closed once the CANCEL is written, so the handler
// learns why the call ended.
func TestCancelReturnsBeforeTheCancelIsSent(t *testing.T) {
	forEachTransport(t, testCancelReturnsBeforeTheCancelIsSent)
}

func testCancelReturnsBeforeTheCancelIsSent(t *testing.T, tc transportCase) {
	h, started, reports := startWatching(t, tc)
	s := &stuckSession{Session: h.cs, stuck: make(chan struct{}), release: make(chan struct{}), closed: make(chan struct{})}
	client := rpc.NewClient(s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := client.Call(ctx, "wait", nil, nil)
		errc <- err
	}()
	waitFor(t, started, "the handler to start")
	close(s.stuck)
	cancel()
	err := waitFor(t, errc, "the cancelled call to return while its CANCEL waits")
	if !errors.Is(err, context.Canceled) || rpc.CodeOf(err) != rpc.CodeCanceled {
		t.Fatalf("client got %v, want context.Canceled", err)
	}
	select {
	case <-s.closed:
		t.Fatal("the channel was closed before its CANCEL was written")
	default:
	}
	close(s.release)
	waitFor(t, s.closed, "the channel to close once the CANCEL is written")
	rep := waitFor(t, reports, "the handler's context to end")
	if !errors.Is(rep.err, context.Canceled) {
		t.Fatalf("handler context ended with %v", rep.err)
	}
}
