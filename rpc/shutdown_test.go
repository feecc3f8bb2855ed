package rpc_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// oneSession is a SessionListener that yields one session, then waits.
type oneSession struct {
	once   sync.Once
	s      mux.Session
	closed chan struct{}
	close  sync.Once
}

func (l *oneSession) Accept(ctx context.Context) (mux.Session, error) {
	var s mux.Session
	l.once.Do(func() { s = l.s })
	if s != nil {
		return s, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.closed:
		return nil, errors.New("listener closed")
	}
}

func (l *oneSession) Close() error {
	l.close.Do(func() { close(l.closed) })
	return nil
}

// A served listener: the server runs Serve on it, the client has a
// session to it, and dial makes more sessions when the transport can.
type served struct {
	srv    *rpc.Server
	client *rpc.Client
	serve  chan error // Serve's result
	dial   func() (mux.Session, error)
}

// startServe runs srv.Serve over a listener of tc's kind: a real TCP
// listener, or a listener of one in-memory session.
func startServe(t *testing.T, tc transportCase, srv *rpc.Server) *served {
	t.Helper()
	s := &served{srv: srv, serve: make(chan error, 1)}
	var l rpc.SessionListener
	switch tc.name {
	case "tcp":
		ln := listenTCP(t)
		l = ln
		s.client = rpc.NewClient(dialTCP(t, ln))
		s.dial = func() (mux.Session, error) {
			sess, err := dialTCPErr(ln)
			if err == nil {
				closeOnCleanup(t, sess)
			}
			return sess, err
		}
	default:
		cs, ss := tc.pair(t)
		l = &oneSession{s: ss, closed: make(chan struct{})}
		s.client = rpc.NewClient(cs)
	}
	go func() { s.serve <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at the end of the test: %v", err)
		}
		s.client.Session().Close()
		waitFor(t, s.serve, "Serve to return")
	})
	return s
}

// blocker is a handler whose calls wait for release, after saying they
// started.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blocker) RespondRPC(r rpc.Responder, c *rpc.Call) {
	b.started <- struct{}{}
	<-b.release
	r.Return("finished")
}

// A workResult is what a call of "work" (blocker) returned.
type workResult struct {
	reply string
	err   error
}

// callWork calls "work" on c from a goroutine of its own.
func callWork(c *rpc.Client) <-chan workResult {
	calls := make(chan workResult, 1)
	go func() {
		var reply string
		_, err := c.Call(context.Background(), "work", nil, &reply)
		calls <- workResult{reply, err}
	}()
	return calls
}

// Shutdown waits for the call in flight, which completes normally; after
// it, Serve returns ErrServerClosed and new calls fail.
func TestShutdownWaitsForCalls(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		b := newBlocker()
		s := startServe(t, tc, &rpc.Server{Handler: b})
		calls := callWork(s.client)
		waitFor(t, b.started, "the call to start")

		shutdown := make(chan error, 1)
		go func() { shutdown <- s.srv.Shutdown(context.Background()) }()
		if err := waitFor(t, s.serve, "Serve to return after Shutdown"); !errors.Is(err, rpc.ErrServerClosed) {
			t.Fatalf("Serve returned %v, want ErrServerClosed", err)
		}
		select {
		case err := <-shutdown:
			t.Fatalf("Shutdown returned %v with a call in flight", err)
		default:
		}
		s.serve <- nil // for the cleanup

		close(b.release)
		if err := waitFor(t, shutdown, "Shutdown"); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if res := waitFor(t, calls, "the call in flight"); res.err != nil || res.reply != "finished" {
			t.Fatalf("the call in flight during Shutdown got %q, %v", res.reply, res.err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := s.client.Call(ctx, "work", nil, nil); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a call after Shutdown: %v, want a prompt failure", err)
		}
		if s.dial != nil {
			if sess, err := s.dial(); err == nil {
				if _, err := rpc.NewClient(sess).Call(ctx, "work", nil, nil); err == nil || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("a call on a new session after Shutdown: %v, want a prompt failure", err)
				}
			}
		}
	})
}

// Shutdown gives up when its ctx ends while a call is stuck.
func TestShutdownContextExpires(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		b := newBlocker()
		s := startServe(t, tc, &rpc.Server{Handler: b})
		errc := make(chan error, 1)
		go func() {
			_, err := s.client.Call(context.Background(), "work", nil, nil)
			errc <- err
		}()
		waitFor(t, b.started, "the call to start")

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Shutdown with an ended ctx: %v, want context.Canceled", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := s.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown with a short timeout: %v, want context.DeadlineExceeded", err)
		}
		close(b.release)
		waitFor(t, errc, "the stuck call")
		if err := s.srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown once the call is done: %v", err)
		}
	})
}

// Serve called after Shutdown returns ErrServerClosed at once.
func TestServeAfterShutdown(t *testing.T) {
	srv := &rpc.Server{Handler: newBlocker()}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln := listenTCP(t)
	if err := srv.Serve(ln); !errors.Is(err, rpc.ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

// dialTCPErr dials ln, returning the error instead of failing.
func dialTCPErr(ln interface{ Addr() net.Addr }) (mux.Session, error) {
	return transport.Dial(context.Background(), "tcp://"+ln.Addr().String())
}

// While Shutdown waits for a call in flight, the calls the client starts
// on the session are refused at once (unavailable, matching
// rpc.ErrRefused: they did not run) instead of waiting for the session
// to close; the call in flight completes.
func TestShutdownRefusesNewCalls(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		b := newBlocker()
		s := startServe(t, tc, &rpc.Server{Handler: b})
		first := make(chan error, 1)
		go func() {
			var reply string
			_, err := s.client.Call(context.Background(), "work", nil, &reply)
			if err == nil && reply != "finished" {
				err = errors.New("reply " + reply)
			}
			first <- err
		}()
		waitFor(t, b.started, "the call to start")
		shutdown := make(chan error, 1)
		go func() { shutdown <- s.srv.Shutdown(context.Background()) }()
		waitFor(t, s.serve, "Serve to return after Shutdown")
		s.serve <- nil // for the cleanup

		// A bound that turns a call left waiting into a failure.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for range 3 {
			_, err := s.client.Call(ctx, "work", nil, nil)
			if !errors.Is(err, rpc.ErrRefused) || rpc.CodeOf(err) != rpc.CodeUnavailable {
				t.Fatalf("a call during Shutdown: %v, want unavailable matching rpc.ErrRefused", err)
			}
		}
		select {
		case err := <-shutdown:
			t.Fatalf("Shutdown returned %v with a call in flight", err)
		default:
		}
		close(b.release)
		if err := waitFor(t, first, "the call in flight"); err != nil {
			t.Fatalf("the call in flight: %v", err)
		}
		if err := waitFor(t, shutdown, "Shutdown"); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	})
}
