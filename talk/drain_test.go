package talk_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// A drainServer serves work calls to the peers it accepts on addr, and
// shuts them down gracefully. While hold is set, its calls wait for
// release, after saying so on held.
type drainServer struct {
	ln       *talk.Listener
	accepted chan struct{} // closed once the accept loop returned
	served   atomic.Int64
	enough   chan struct{} // closed once 20 calls were served
	hold     atomic.Bool
	held     chan struct{} // a call waits for release
	release  chan struct{}

	mu    sync.Mutex
	peers []*talk.Peer
}

func startDrainServer(t *testing.T, addr string) *drainServer {
	t.Helper()
	s := &drainServer{accepted: make(chan struct{}), enough: make(chan struct{}), held: make(chan struct{}, 100), release: make(chan struct{})}
	m := rpc.NewRespondMux()
	m.HandleFunc("work", func(r rpc.Responder, c *rpc.Call) {
		if s.hold.Load() {
			s.held <- struct{}{}
			<-s.release
		}
		if s.served.Add(1) == 20 {
			close(s.enough)
		}
		r.Return("done")
	})
	ln, err := talk.Listen(context.Background(), addr, talk.WithHandler(m))
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	go func() {
		defer close(s.accepted)
		for {
			p, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			s.mu.Lock()
			s.peers = append(s.peers, p)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		s.stopListening()
		s.drain(context.Background())
	})
	return s
}

func (s *drainServer) stopListening() {
	s.ln.Close()
	<-s.accepted
}

// drain shuts every peer down gracefully.
func (s *drainServer) drain(ctx context.Context) error {
	s.mu.Lock()
	peers := s.peers
	s.peers = nil
	s.mu.Unlock()
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() { errs[i] = p.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// A server restarted gracefully (Shutdown: the calls it has not begun
// refused, the client told with qtalk:drain, the calls in flight
// finished) while a reconnecting client keeps calling at concurrency 4:
// not one call fails; the call in flight during the drain completes over
// the old session, the others go over the new one.
func TestDrainRestartFailsNoCall(t *testing.T) {
	addr := newRestartable(t).addr
	s1 := startDrainServer(t, addr)
	ctx := callCtx(t)
	cfg := fast
	cfg.WaitForSession = true
	p, err := talk.Dial(ctx, addr, talk.WithReconnect(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer closePeers(t, p)

	var (
		stop   atomic.Bool
		calls  atomic.Int64
		failed = make(chan error, 1000)
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				var reply string
				if _, err := p.Call(ctx, "work", nil, &reply); err != nil || reply != "done" {
					failed <- errors.Join(err, errors.New("reply "+reply))
					return
				}
				calls.Add(1)
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
		close(failed)
		for err := range failed {
			t.Errorf("call: %v", err)
		}
	}()

	await(t, s1.enough, "calls served by the first server")
	s1.hold.Store(true)
	await(t, s1.held, "a call held")
	s1.stopListening()
	drained := make(chan error, 1)
	go func() { drained <- s1.drain(ctx) }()
	// The client heard of the drain: it no longer calls over the session.
	waitState(t, p, talk.StateConnecting, talk.StateDisconnected)
	s2 := startDrainServer(t, addr)
	close(s1.release)
	if err := waitFor(t, drained); err != nil {
		t.Fatalf("Shutdown of the first server: %v", err)
	}
	await(t, s2.enough, "calls served by the second server")
}

// await waits for c to be closed or to yield, failing the test after
// testTimeout.
func await(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	within(t, what, func() { <-c })
}

// Shutdown of a peer refuses the other side's new calls (rpc.ErrRefused:
// they did not run), lets the call in flight finish, then closes the
// session. A peer that does not reconnect answers qtalk:drain at once.
func TestShutdownPlainPeer(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	m := rpc.NewRespondMux()
	m.HandleFunc("work", func(r rpc.Responder, c *rpc.Call) {
		if calls.Add(1) == 1 { // the first call waits for release
			close(held)
			<-release
		}
		r.Return("done")
	})
	a, b := pipePair(t, []talk.Option{talk.WithHandler(m)}, nil)
	ctx := callCtx(t)
	if _, err := a.Call(ctx, talk.LabelDrain, nil, nil); err != nil {
		t.Fatalf("qtalk:drain to a plain peer: %v", err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := b.Call(ctx, "work", nil, nil)
		first <- err
	}()
	await(t, held, "the call to start")
	shutdown := make(chan error, 1)
	go func() { shutdown <- a.Shutdown(ctx) }()
	for {
		// Served until Shutdown begins, refused from then on.
		_, err := b.Call(ctx, "work", nil, nil)
		if err == nil {
			continue
		}
		if !errors.Is(err, rpc.ErrRefused) || rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Fatalf("a call during Shutdown: %v, want unavailable matching rpc.ErrRefused", err)
		}
		break
	}
	close(release)
	if err := waitFor(t, first); err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if err := waitFor(t, shutdown); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	waitErr(t, b)
}
