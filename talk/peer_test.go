package talk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// handleAdd registers selector on p: it adds the two numbers it gets.
func handleAdd(p *talk.Peer, selector string) {
	p.HandleFunc(selector, func(r rpc.Responder, c *rpc.Call) {
		var xs [2]int
		if err := c.Receive(&xs); err != nil {
			r.Error(err)
			return
		}
		r.Return(xs[0] + xs[1])
	})
}

// callAdd calls selector on p with x and y and checks the sum.
func callAdd(ctx context.Context, p *talk.Peer, selector string, x, y int) error {
	var sum int
	if _, err := p.Call(ctx, selector, [2]int{x, y}, &sum); err != nil {
		return fmt.Errorf("%s(%d, %d): %w", selector, x, y, err)
	}
	if sum != x+y {
		return fmt.Errorf("%s(%d, %d) = %d, want %d", selector, x, y, sum, x+y)
	}
	return nil
}

// Both peers call each other at the same time, from many goroutines.
func TestCallBothWays(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		for _, codec := range []rpc.Codec{rpc.CBOR, rpc.JSON} {
			t.Run(codec.Name(), func(t *testing.T) {
				opts := []talk.Option{talk.WithClientOptions(rpc.WithCodec(codec))}
				a, b := mp(t, opts, opts)
				handleAdd(a, "a.add")
				handleAdd(b, "b.add")
				ctx := callCtx(t)
				const callers, calls = 8, 20
				var wg sync.WaitGroup
				errc := make(chan error, 2*callers)
				for i := range callers {
					for _, dir := range []struct {
						from     *talk.Peer
						selector string
					}{{a, "b.add"}, {b, "a.add"}} {
						wg.Go(func() {
							for j := range calls {
								if err := callAdd(ctx, dir.from, dir.selector, i, j); err != nil {
									errc <- err
									return
								}
							}
						})
					}
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					t.Error(err)
				}
			})
		}
	})
}

// A handler calls back the peer that called it, which calls back again:
// the calls nest, alternating sides, each on a channel of its own.
func TestCallbackPingPong(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, nil)
		for _, p := range []*talk.Peer{a, b} {
			p.HandleFunc("ping", func(r rpc.Responder, c *rpc.Call) {
				if c.Caller != p.Client() {
					r.Error(errors.New("Call.Caller is not the peer's client"))
					return
				}
				var n int
				if err := c.Receive(&n); err != nil {
					r.Error(err)
					return
				}
				if n == 0 {
					r.Return(0)
					return
				}
				var depth int
				if _, err := c.Caller.Call(c.Context(), "ping", n-1, &depth); err != nil {
					r.Error(err)
					return
				}
				r.Return(depth + 1)
			})
		}
		var depth int
		if _, err := a.Call(callCtx(t), "ping", 10, &depth); err != nil {
			t.Fatal(err)
		}
		if depth != 10 {
			t.Fatalf("depth %d, want 10", depth)
		}
	})
}

// A handler calls back through the peer rather than Call.Caller, while
// the call that triggered it is in progress.
func TestCallbackThroughPeer(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, nil)
		a.HandleFunc("a.name", func(r rpc.Responder, c *rpc.Call) { r.Return("alice") })
		b.HandleFunc("b.greet", func(r rpc.Responder, c *rpc.Call) {
			var name string
			if _, err := b.Call(c.Context(), "a.name", nil, &name); err != nil {
				r.Error(err)
				return
			}
			r.Return("hello, " + name)
		})
		var got string
		if _, err := a.Call(callCtx(t), "b.greet", nil, &got); err != nil {
			t.Fatal(err)
		}
		if got != "hello, alice" {
			t.Fatalf("got %q", got)
		}
	})
}

// checkEnded checks that p has ended: Wait returns, Context is done and
// calls fail as unavailable.
func checkEnded(t *testing.T, p *talk.Peer, name string) {
	t.Helper()
	waitErr(t, p)
	select {
	case <-p.Context().Done():
	default:
		t.Errorf("%s: Context not done after Wait", name)
	}
	if cause := context.Cause(p.Context()); !errors.Is(cause, mux.ErrSessionClosed) {
		t.Errorf("%s: Context cause %v, want mux.ErrSessionClosed", name, cause)
	}
	_, err := p.Call(callCtx(t), "any", nil, nil)
	if !errors.Is(err, mux.ErrSessionClosed) || rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("%s: call after the end: %v, want mux.ErrSessionClosed with CodeUnavailable", name, err)
	}
}

// Closing one peer ends the other; calls on both fail afterwards.
func TestCloseEndsOther(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, nil)
		handleAdd(b, "b.add")
		if err := callAdd(callCtx(t), a, "b.add", 1, 2); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := waitErr(t, a); err != nil {
			t.Errorf("Wait after Close: %v, want nil", err)
		}
		// The other side notices by reading io.EOF, or by a write failing
		// first: either way, not the nil of a local Close.
		if err := waitErr(t, b); err == nil {
			t.Errorf("Wait of the other side: nil, want the error that ended it")
		}
		checkEnded(t, a, "closed side")
		checkEnded(t, b, "other side")
	})
}

// Closing a peer cancels its handlers in flight, waits for them to
// return, and fails the calls waiting on them at the other side.
func TestCloseWaitsForHandlers(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, nil)
		started, cancelled, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
		var returned atomic.Bool
		b.HandleFunc("block", func(r rpc.Responder, c *rpc.Call) {
			close(started)
			<-c.Context().Done()
			close(cancelled)
			<-release
			returned.Store(true)
		})
		errc := make(chan error, 1)
		go func() {
			_, err := a.Call(context.Background(), "block", nil, nil)
			errc <- err
		}()
		<-started
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			b.Close()
		}()
		within(t, "the handler's cancellation", func() { <-cancelled })
		// Let the session end on both sides, and the blocked call fail,
		// before checking that Close still waits for the handler.
		var err error
		within(t, "the blocked call", func() { err = <-errc })
		if !errors.Is(err, mux.ErrSessionClosed) || rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("blocked call: %v, want mux.ErrSessionClosed with CodeUnavailable", err)
		}
		checkEnded(t, a, "caller")
		within(t, "the session's Wait", func() { b.Session().Wait() })
		select {
		case <-closed:
			t.Error("Close returned while a handler was running")
		default:
		}
		close(release)
		within(t, "Close", func() { <-closed })
		if !returned.Load() {
			t.Error("Close returned before the handler")
		}
	})
}

// Closing the calling peer cancels the handler at the other side, and
// the other side's Wait returns once the handler has.
func TestCloseCancelsRemoteHandler(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, nil)
		started := make(chan struct{})
		var returned atomic.Bool
		b.HandleFunc("block", func(r rpc.Responder, c *rpc.Call) {
			close(started)
			<-c.Context().Done()
			returned.Store(true)
		})
		errc := make(chan error, 1)
		go func() {
			_, err := a.Call(context.Background(), "block", nil, nil)
			errc <- err
		}()
		<-started
		a.Close()
		waitErr(t, b)
		if !returned.Load() {
			t.Error("Wait returned before the handler")
		}
		if err := <-errc; rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("blocked call: %v, want CodeUnavailable", err)
		}
	})
}

// A handler can end its own peer by closing the session.
func TestHandlerClosesSession(t *testing.T) {
	a, b := pipePair(t, nil, nil)
	b.HandleFunc("quit", func(r rpc.Responder, c *rpc.Call) {
		r.Return(nil)
		b.Session().Close()
	})
	a.Call(callCtx(t), "quit", nil, nil) // the answer may or may not arrive first
	if err := waitErr(t, b); err != nil {
		t.Errorf("Wait: %v, want nil after the local close", err)
	}
	waitErr(t, a)
}

func TestHandlerErrors(t *testing.T) {
	a, b := pipePair(t, nil, nil)
	b.HandleFunc("fail", func(r rpc.Responder, c *rpc.Call) {
		r.Error(rpc.Errorf(rpc.CodePermissionDenied, "not you"))
	})
	_, err := a.Call(callCtx(t), "fail", nil, nil)
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Code != rpc.CodePermissionDenied || !strings.HasSuffix(rerr.Message, "not you") {
		t.Errorf("got %v, want a permission_denied *rpc.Error", err)
	}
	_, err = a.Call(callCtx(t), "missing", nil, nil)
	if !errors.Is(err, rpc.ErrNotFound) {
		t.Errorf("got %v, want rpc.ErrNotFound", err)
	}
}

// A peer serving a handler that is not a RespondMux has no Mux, and
// Handle panics.
func TestWithHandler(t *testing.T) {
	h := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return(c.Selector) })
	a, b := pipePair(t, nil, []talk.Option{talk.WithHandler(h)})
	var got string
	if _, err := a.Call(callCtx(t), "any.thing", nil, &got); err != nil || got != "any.thing" {
		t.Fatalf("got %q, %v; want any.thing", got, err)
	}
	if b.Mux() != nil {
		t.Error("Mux is not nil for a HandlerFunc")
	}
	defer func() {
		if recover() == nil {
			t.Error("Handle did not panic")
		}
	}()
	b.HandleFunc("x", func(rpc.Responder, *rpc.Call) {})
}

// A RespondMux given with WithHandler is the peer's Mux.
func TestWithHandlerMux(t *testing.T) {
	m := rpc.NewRespondMux()
	_, b := pipePair(t, nil, []talk.Option{talk.WithHandler(m)})
	if b.Mux() != m {
		t.Error("Mux is not the RespondMux given")
	}
	b.HandleFunc("x", func(rpc.Responder, *rpc.Call) {})
	if _, _, ok := m.Match("x"); !ok {
		t.Error("Handle did not register on the mux given")
	}
}

// A frame over the peer's limit fails the call, not the peer.
func TestMaxFrameSize(t *testing.T) {
	a, b := pipePair(t, nil, []talk.Option{talk.WithMaxFrameSize(1 << 10)})
	handleAdd(a, "a.add")
	b.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return(s)
	})
	big := string(make([]byte, 4<<10))
	if _, err := a.Call(callCtx(t), "echo", big, nil); err == nil {
		t.Error("a call with arguments over the limit succeeded")
	}
	if _, err := b.Call(callCtx(t), "a.add", [2]int{1, 2}, nil); err != nil {
		t.Errorf("call after the oversized one: %v", err)
	}
}
