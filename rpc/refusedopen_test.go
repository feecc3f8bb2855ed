package rpc_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// backlogPair is a qmux pair over a pipe whose server side holds at most
// backlog channels waiting for Accept. qmux leaves up to backlog more
// opens unanswered (the opener waits) and refuses the opens beyond.
func backlogPair(t *testing.T, backlog int) (client, server *qmux.Session) {
	t.Helper()
	c1, c2 := pipe.New()
	cs, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := qmux.New(c2, &qmux.Config{AcceptBacklog: backlog})
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, cs, ss)
	return cs, ss
}

// fillBacklog opens channels on cs until its peer, which accepts none,
// refuses the next open: backlog of them confirmed, backlog unanswered
// (opened early, so that nothing waits for their answer).
func fillBacklog(t *testing.T, cs *qmux.Session, backlog int) {
	t.Helper()
	for range backlog {
		if _, err := cs.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range backlog {
		if _, err := cs.OpenEarly(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// refusalCounter is a client session (without mux.EarlyOpener, so that
// refusals show at Open) that counts the opens the peer refused and
// closes refused once there are enough of them.
type refusalCounter struct {
	mux.Session
	n       atomic.Int32
	enough  int32
	refused chan struct{}
}

func (s *refusalCounter) Open(ctx context.Context) (mux.Channel, error) {
	ch, err := s.Session.Open(ctx)
	if errors.Is(err, mux.ErrOpenRejected) && s.n.Add(1) == s.enough {
		close(s.refused)
	}
	return ch, err
}

// earlyOnly opens every channel early (mux.EarlyOpener): a refusal shows
// in the call's reads and writes instead of at Open.
type earlyOnly struct{ *qmux.Session }

func (s earlyOnly) Open(ctx context.Context) (mux.Channel, error) { return s.OpenEarly(ctx) }

// Concurrent calls to a server whose accept backlog is tiny are refused
// opens at first; they retry them and all succeed once the server
// accepts. (The retries are many here, so that the test does not depend
// on how soon the server gets to accept on a loaded machine.)
func TestRefusedOpensAreRetried(t *testing.T) {
	cs, ss := backlogPair(t, 2)
	counted := &refusalCounter{Session: cs, enough: 4, refused: make(chan struct{})}
	cl := rpc.NewClient(counted, rpc.WithOpenRetries(1000))

	const calls = 16
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got string
			_, err := cl.Call(context.Background(), "x", nil, &got)
			if err == nil && got != "ok" {
				err = errors.New("reply " + got)
			}
			errs <- err
		}()
	}
	// The server starts accepting only once opens were refused.
	waitFor(t, counted.refused, "refused opens")
	srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("ok") })}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.ServeSession(ss)
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("call: %v", err)
		}
	}
	srv.Shutdown(context.Background())
	ss.Close()
	<-served
}

// A call whose opens stay refused fails with unavailable, wrapping
// mux.ErrOpenRejected, after its retries: refused at Open, and refused
// after an early open (mux.EarlyOpener) that the call wrote to.
func TestRefusedOpensFailUnavailable(t *testing.T) {
	for _, early := range []bool{false, true} {
		name := "open"
		if early {
			name = "early"
		}
		t.Run(name, func(t *testing.T) {
			cs, _ := backlogPair(t, 1)
			fillBacklog(t, cs, 1)
			counted := &refusalCounter{Session: cs, enough: -1}
			var sess mux.Session = counted
			if early {
				sess = earlyOnly{cs}
			}
			cl := rpc.NewClient(sess, rpc.WithOpenRetries(2), rpc.WithOpenAhead(0))
			_, err := cl.Call(context.Background(), "x", nil, nil)
			if rpc.CodeOf(err) != rpc.CodeUnavailable || !errors.Is(err, mux.ErrOpenRejected) {
				t.Fatalf("call: %v, want unavailable wrapping %v", err, mux.ErrOpenRejected)
			}
			if !early {
				if n := counted.n.Load(); n != 3 {
					t.Fatalf("%d opens refused, want 3 (the first and 2 retries)", n)
				}
			}
		})
	}
}

// The retries of refused opens end with the call's ctx.
func TestRefusedOpensEndWithCtx(t *testing.T) {
	cs, _ := backlogPair(t, 1)
	fillBacklog(t, cs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	counted := &refusalCounter{Session: cs, enough: 2, refused: make(chan struct{})}
	go func() {
		<-counted.refused
		cancel()
	}()
	cl := rpc.NewClient(counted, rpc.WithOpenRetries(1000), rpc.WithOpenAhead(0))
	_, err := cl.Call(ctx, "x", nil, nil)
	if rpc.CodeOf(err) != rpc.CodeCanceled {
		t.Fatalf("call: %v, want canceled", err)
	}
}
