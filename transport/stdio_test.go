package transport_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestStdioDial(t *testing.T) {
	local, remote := pipe.New()
	defer transport.SetStdioStreams(local, local)()

	peer, err := qmux.New(remote, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); serveEcho(peer) }()

	s, err := transport.Dial(context.Background(), "stdio:")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LocalAddr().Network(); got != "stdio" {
		t.Errorf("LocalAddr network %q, want stdio", got)
	}
	checkEcho(t, s)
	s.Close() // closes local, so peer ends too
	if err := s.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	<-done
}

func TestStdioListen(t *testing.T) {
	local, remote := pipe.New()
	defer transport.SetStdioStreams(local, local)()

	ctx := context.Background()
	ln, err := transport.Listen(ctx, "stdio:")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); serveEcho(s) }()

	peer, err := qmux.New(remote, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, peer)

	// The one session has been taken: Accept waits for ctx or Close.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := ln.Accept(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Accept: %v, want context.DeadlineExceeded", err)
	}
	errc := make(chan error, 1)
	go func() { _, err := ln.Accept(ctx); errc <- err }()
	ln.Close()
	if err := <-errc; !errors.Is(err, transport.ErrListenerClosed) {
		t.Errorf("Accept after Close: %v, want ErrListenerClosed", err)
	}

	peer.Close()
	peer.Wait()
	<-done // s ended when the peer closed
}
