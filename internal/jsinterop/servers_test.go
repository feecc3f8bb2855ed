//go:build browser

package jsinterop

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

// listen listens on addr for the test, which serveSessions then serves,
// and returns the listener with the address it listens on: addr with the
// port the system chose.
func listen(t *testing.T, addr string, opts ...transport.Option) (transport.Listener, string) {
	t.Helper()
	ln, err := transport.Listen(context.Background(), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := transport.ParseAddress(addr)
	if err != nil {
		t.Fatal(err)
	}
	a.Host = ln.Addr().String()
	return ln, a.String()
}

// serveSessions accepts the sessions of ln and runs serve on each in a
// goroutine of its own until the test ends; then it closes ln and the
// sessions still open, and waits for the calls of serve to return.
func serveSessions(t *testing.T, ln transport.Listener, serve func(mux.Session)) {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu     sync.Mutex // guards open and closed
		open   = map[mux.Session]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for {
			sess, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				sess.Close()
				return
			}
			open[sess] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				serve(sess)
				sess.Close()
				mu.Lock()
				delete(open, sess)
				mu.Unlock()
			})
		}
	})
	t.Cleanup(func() {
		cancel()
		ln.Close()
		mu.Lock()
		closed = true
		for sess := range open {
			sess.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// serveDemo serves the demo services of qtalk serve (echo, chat, kv and
// the interop check) on the sessions of ln, as peers that can call back.
func serveDemo(t *testing.T, ln transport.Listener) {
	app := demo.New(slog.New(slog.DiscardHandler))
	t.Cleanup(app.Close) // after the sessions: cleanups run last first
	serveSessions(t, ln, func(sess mux.Session) {
		p := talk.NewPeer(sess, talk.WithHandler(app.Handler()))
		p.Wait()
		p.Close()
	})
}
