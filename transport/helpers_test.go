package transport_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport"
)

// serveEcho echoes every channel the peer opens on s until s ends, and
// waits for the echoes to finish.
func serveEcho(s mux.Session) {
	done := make(chan struct{})
	n := 0
	for {
		ch, err := s.Accept(context.Background())
		if err != nil {
			break
		}
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			io.Copy(ch, ch)
			ch.CloseWrite()
			ch.Close()
		}()
	}
	for range n {
		<-done
	}
}

// checkEcho opens a channel on s, sends more than a window of data through
// the echo at the other end and checks that it comes back.
func checkEcho(t *testing.T, s mux.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ch, err := s.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer ch.Close()
	ch.SetDeadline(time.Now().Add(20 * time.Second))

	want := make([]byte, 600<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	werr := make(chan error, 1)
	go func() {
		_, err := ch.Write(want)
		if err == nil {
			err = ch.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(ch)
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echo differs: got %d bytes, want %d", len(got), len(want))
	}
}

// testEcho listens on addr, dials the listener at dialAddr(ln) and checks
// an echo over the session pair, then closes everything.
func testEcho(t *testing.T, addr string, dialAddr func(transport.Listener) string, opts ...transport.Option) {
	t.Helper()
	ctx := context.Background()
	ln, err := transport.Listen(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer ln.Close()
	served := make(chan mux.Session, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept(ctx)
		if err != nil {
			t.Errorf("Accept: %v", err)
			close(served)
			return
		}
		served <- s
		serveEcho(s)
	}()

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	client, err := transport.Dial(dctx, dialAddr(ln), opts...)
	cancel() // the session outlives the dial context
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	checkEcho(t, client)
	checkEcho(t, client)

	client.Close()
	if err := client.Wait(); err != nil {
		t.Errorf("client Wait: %v", err)
	}
	if server := <-served; server != nil {
		server.Wait() // ended by the client's close
	}
	<-done
}
