package rpc_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// After a call, the client has a channel open ahead, and the next call
// goes out on it: the server accepted it before the call began.
func TestOpenAheadCarriesTheNextCall(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		accepted := make(chan struct{}, 16)
		srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("ok") })}
		served := make(chan struct{})
		go func() {
			defer close(served)
			srv.ServeSession(countingSession{ss, accepted})
		}()
		defer func() {
			srv.Shutdown(context.Background())
			<-served
		}()
		cl := rpc.NewClient(cs, rpc.WithOpenAhead(1))
		if _, err := cl.Call(context.Background(), "x", nil, nil); err != nil {
			t.Fatal(err)
		}
		// The first call's channel and the one opened ahead.
		waitFor(t, accepted, "the first call's channel")
		waitFor(t, accepted, "a channel opened ahead")
		select {
		case <-accepted:
			t.Fatal("more channels than the call and one ahead")
		default:
		}
		if _, err := cl.Call(context.Background(), "x", nil, nil); err != nil {
			t.Fatal(err)
		}
		// The second call used the channel opened ahead; its own refill
		// is the only new channel.
		waitFor(t, accepted, "the refill after the second call")
	})
}

// A server that shuts down closes the channels opened ahead; the next call
// of the client goes out on a new channel (to the next server on the
// session) instead of failing.
func TestOpenAheadSurvivesIdleClose(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		serve := func(reply string) (*rpc.Server, chan error) {
			srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return(reply) })}
			done := make(chan error, 1)
			go func() { done <- srv.ServeSession(ss) }()
			return srv, done
		}
		first, firstDone := serve("first")
		cl := rpc.NewClient(cs, rpc.WithOpenAhead(2))
		var got string
		if _, err := cl.Call(context.Background(), "x", nil, &got); err != nil || got != "first" {
			t.Fatalf("first call: %q, %v", got, err)
		}
		if err := first.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, firstDone, "the first server"); !errors.Is(err, rpc.ErrServerClosed) {
			t.Fatalf("ServeSession returned %v", err)
		}
		second, secondDone := serve("second")
		defer func() {
			second.Shutdown(context.Background())
			<-secondDone
		}()
		for i := range 4 { // more calls than channels were opened ahead
			got = ""
			if _, err := cl.Call(context.Background(), "x", nil, &got); err != nil || got != "second" {
				t.Fatalf("call %d after the first server closed its idle channels: %q, %v", i, got, err)
			}
		}
	})
}

// A channel opened ahead without waiting for the answer (an EarlyOpener
// session's OpenEarly) that the server refused does not fail the call
// that takes it: nothing of the call was sent, so it goes out on another
// channel.
func TestOpenAheadRefused(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("ok") })}
		served := make(chan error, 1)
		go func() { served <- srv.ServeSession(ss) }()
		defer func() {
			srv.Shutdown(context.Background())
			<-served
		}()
		refusing := &refusingSession{EarlyOpener: cs.(mux.EarlyOpener), Session: cs}
		cl := rpc.NewClient(refusing, rpc.WithOpenAhead(1))
		for i := range 3 {
			refusing.refuseNext.Store(true) // the channel opened ahead during this call
			var got string
			if _, err := cl.Call(context.Background(), "x", nil, &got); err != nil || got != "ok" {
				t.Fatalf("call %d: %q, %v", i, got, err)
			}
		}
		if n := refusing.refused.Load(); n != 3 {
			t.Fatalf("%d channels opened ahead were refused, want 3", n)
		}
	})
}

// refusingSession's OpenEarly returns a channel the peer refused when
// refuseNext is set, as a real one reports it: every Read and Write fails
// with mux.ErrOpenRejected.
type refusingSession struct {
	mux.EarlyOpener
	mux.Session
	refuseNext atomic.Bool
	refused    atomic.Int32
}

func (s *refusingSession) OpenEarly(ctx context.Context) (mux.Channel, error) {
	if s.refuseNext.Swap(false) {
		s.refused.Add(1)
		return refusedChannel{}, nil
	}
	return s.EarlyOpener.OpenEarly(ctx)
}

type refusedChannel struct{ mux.Channel }

func (refusedChannel) Read([]byte) (int, error)  { return 0, mux.ErrOpenRejected }
func (refusedChannel) Write([]byte) (int, error) { return 0, mux.ErrOpenRejected }
func (refusedChannel) Close() error              { return nil }

// A stream cut off by its deadline ends with a deadline error, not with
// the io.EOF of a stream that ended normally.
func TestStreamCutByDeadline(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			if r.Continue(nil) != nil {
				return
			}
			for i := 0; ; i++ {
				select {
				case <-c.Context().Done():
					return
				case <-time.After(time.Millisecond):
				}
				if r.Send(i) != nil {
					return
				}
			}
		})
		ctx := newHeldDeadline(t, context.Background())
		resp, err := h.client.Call(ctx, "ticks", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if err := resp.Receive(nil); err != nil {
			t.Fatalf("the stream's first value: %v", err)
		}
		ctx.expire()
		for {
			var i int
			err := resp.Receive(&i)
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the stream ended with %v, want a deadline error", err)
			}
			return
		}
	})
}

// countingSession reports each channel the server accepts.
type countingSession struct {
	mux.Session
	accepted chan<- struct{}
}

func (s countingSession) Accept(ctx context.Context) (mux.Channel, error) {
	ch, err := s.Session.Accept(ctx)
	if err == nil {
		s.accepted <- struct{}{}
	}
	return ch, err
}

// Calls that overlap may leave as many channels open ahead as the cap;
// calls one at a time then use them up before they open more, and keep
// one ahead: one more would have the server wait on it too, and an idle
// server's Reads waiting on two channels keep its session from reading
// the connection in the goroutine that serves the next call.
func TestOpenAheadShrinksForCallsOneAtATime(t *testing.T) {
	// Over qmux, an EarlyOpener: the opens ahead are made within the call.
	h := startFunc(t, transportCase{"pipe", pipePair}, func(r rpc.Responder, c *rpc.Call) { r.Return("ok") })
	counting := &openCounter{Session: h.cs, EarlyOpener: h.cs.(mux.EarlyOpener)}
	counting.together.Add(2)
	cl := rpc.NewClient(counting, rpc.WithOpenAhead(2))

	// Two calls that both find no channel ahead (their Opens wait for
	// each other) and each open one ahead.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := cl.Call(context.Background(), "x", nil, nil)
			errs <- err
		}()
	}
	for range 2 {
		if err := waitFor(t, errs, "the overlapping calls"); err != nil {
			t.Fatal(err)
		}
	}
	counting.overlapped.Store(true)
	if got := counting.opens.Swap(0); got != 4 {
		t.Fatalf("the overlapping calls opened %d channels, want 4 (their own and one ahead each)", got)
	}

	// One at a time: the first takes one of the two ahead and opens
	// none; each after takes the last and opens the next.
	for i, want := range []int32{0, 1, 2, 3} {
		if _, err := cl.Call(context.Background(), "x", nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := counting.opens.Load(); got != want {
			t.Fatalf("after call %d of those one at a time, %d channels opened, want %d", i+1, got, want)
		}
	}
}

// openCounter counts the channels opened over it; until overlapped is
// set, its Opens wait until two are under way.
type openCounter struct {
	mux.Session
	mux.EarlyOpener
	opens      atomic.Int32
	together   sync.WaitGroup
	overlapped atomic.Bool
}

func (s *openCounter) Open(ctx context.Context) (mux.Channel, error) {
	s.opens.Add(1)
	if !s.overlapped.Load() {
		s.together.Done()
		s.together.Wait()
	}
	return s.Session.Open(ctx)
}

func (s *openCounter) OpenEarly(ctx context.Context) (mux.Channel, error) {
	s.opens.Add(1)
	return s.EarlyOpener.OpenEarly(ctx)
}
