package rpc_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// drainOrder is a server's session that holds back the end of an Accept
// whose ctx ended until open is closed, so that a test can finish a call
// after Shutdown began and before the session noticed it; and that tells
// how the call's channel ends: the channels that carried data are the
// calls' (the others were opened ahead and stay idle).
type drainOrder struct {
	mux.Session
	open      chan struct{} // closed to let an Accept whose ctx ended return
	ended     chan struct{} // closed once a call's channel is half-closed or closed
	lingering chan struct{} // closed once a Read begins on a call's channel after its CloseWrite
	endOnce   sync.Once
	lingerOne sync.Once
}

// CloseLosesUnread passes on what the wrapped session reports
// (mux.LossyCloser), on which the server's waits depend.
func (s *drainOrder) CloseLosesUnread() bool {
	lc, ok := s.Session.(mux.LossyCloser)
	return ok && lc.CloseLosesUnread()
}

func (s *drainOrder) Accept(ctx context.Context) (mux.Channel, error) {
	ch, err := s.Session.Accept(ctx)
	if err != nil {
		if ctx.Err() != nil {
			<-s.open
		}
		return nil, err
	}
	return &drainChannel{Channel: ch, s: s}, nil
}

type drainChannel struct {
	mux.Channel
	s       *drainOrder
	used    atomic.Bool // a Read returned data: the channel carries a call
	wclosed atomic.Bool // CloseWrite was called on a used channel
}

func (c *drainChannel) Read(p []byte) (int, error) {
	if c.wclosed.Load() {
		c.s.lingerOne.Do(func() { close(c.s.lingering) })
	}
	n, err := c.Channel.Read(p)
	if n > 0 {
		c.used.Store(true)
	}
	return n, err
}

func (c *drainChannel) CloseWrite() error {
	if c.used.Load() {
		c.wclosed.Store(true)
		c.s.endOnce.Do(func() { close(c.s.ended) })
	}
	return c.Channel.CloseWrite()
}

func (c *drainChannel) Close() error {
	if c.used.Load() {
		c.s.endOnce.Do(func() { close(c.s.ended) })
	}
	return c.Channel.Close()
}

// lateReader is a client's session whose channels read nothing until
// read is closed.
type lateReader struct {
	mux.Session
	read chan struct{}
}

func (s *lateReader) Open(ctx context.Context) (mux.Channel, error) {
	ch, err := s.Session.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &lateChannel{Channel: ch, read: s.read}, nil
}

type lateChannel struct {
	mux.Channel
	read chan struct{}
}

func (c *lateChannel) Read(p []byte) (int, error) {
	<-c.read
	return c.Channel.Read(p)
}

// readReplyLate lets the client read the reply of its call only once the
// server either closed the session (cs, the client's, ends) or waits for
// the client's close after the reply; then the call must have its reply,
// and Shutdown must return.
func readReplyLate(t *testing.T, cs mux.Session, server *drainOrder, client *lateReader, calls <-chan workResult, shutdown <-chan error, what string) {
	t.Helper()
	sessionEnded := make(chan error, 1)
	go func() { sessionEnded <- cs.Wait() }()
	select {
	case err := <-sessionEnded:
		t.Logf("the server closed the session before the client read the reply (%v)", err)
	case <-server.lingering:
	}
	close(client.read)
	if res := waitFor(t, calls, what); res.err != nil || res.reply != "finished" {
		t.Fatalf("%s got %q, %v", what, res.reply, res.err)
	}
	if err := waitFor(t, shutdown, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// A call whose handler finishes after Shutdown began, but before the
// session's serving noticed it, still waits for the client to have read
// its reply before the session closes. The client reads the reply only
// once the server either closed the session (the bug: over QUIC, the
// reply not read by then is lost) or waits for the client's close.
func TestShutdownCallEndsBeforeDrain(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		server := &drainOrder{Session: ss, open: make(chan struct{}), ended: make(chan struct{}), lingering: make(chan struct{})}
		client := &lateReader{Session: cs, read: make(chan struct{})}
		b := newBlocker()
		srv := &rpc.Server{Handler: b}
		serve := make(chan error, 1)
		go func() { serve <- srv.Serve(&oneSession{s: server, closed: make(chan struct{})}) }()

		calls := callWork(rpc.NewClient(client, rpc.WithOpenAhead(0)))
		waitFor(t, b.started, "the call to start")

		shutdown := make(chan error, 1)
		go func() { shutdown <- srv.Shutdown(context.Background()) }()
		if err := waitFor(t, serve, "Serve to return after Shutdown"); !errors.Is(err, rpc.ErrServerClosed) {
			t.Fatalf("Serve returned %v, want ErrServerClosed", err)
		}
		close(b.release) // the call ends while the session's Accept is held
		<-server.ended
		close(server.open) // the session's serving learns of Shutdown

		readReplyLate(t, cs, server, client, calls, shutdown, "the call that ended during Shutdown")
	})
}

// A reply the server sent before Shutdown was called is not lost when the
// drain closes the session before the client read it: over a session whose
// Close loses what the peer has not read (mux.LossyCloser: QUIC), the
// server keeps every call's channel, after the reply, until the client
// closed its end. The client reads the reply only once the server either
// closed the session (the bug: the drain found no call in flight) or waits
// for the client's close.
func TestShutdownAfterReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		server := &drainOrder{Session: ss, open: make(chan struct{}), ended: make(chan struct{}), lingering: make(chan struct{})}
		close(server.open) // Accepts are not held back here
		client := &lateReader{Session: cs, read: make(chan struct{})}
		b := newBlocker()
		close(b.release) // the handler replies at once
		srv := &rpc.Server{Handler: b}
		go srv.Serve(&oneSession{s: server, closed: make(chan struct{})})

		calls := callWork(rpc.NewClient(client, rpc.WithOpenAhead(0)))
		<-server.ended // the reply is written, the channel half-closed or closed

		shutdown := make(chan error, 1)
		go func() { shutdown <- srv.Shutdown(context.Background()) }()
		readReplyLate(t, cs, server, client, calls, shutdown, "the call answered before Shutdown")
	})
}
