package talk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

// The peers of a Listener share one mux given with WithHandler; each
// call's Caller calls back the peer that made the call.
func TestListenerSharedMux(t *testing.T) {
	m := rpc.NewRespondMux()
	m.HandleFunc("server.whoami", func(r rpc.Responder, c *rpc.Call) {
		var name string
		if _, err := c.Caller.Call(c.Context(), "client.name", nil, &name); err != nil {
			r.Error(err)
			return
		}
		r.Return("you are " + name)
	})
	ctx := callCtx(t)
	ln, err := talk.Listen(ctx, "tcp://127.0.0.1:0", talk.WithHandler(m))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ln.Serve(ctx, nil) }()

	var wg sync.WaitGroup
	for i := range 4 {
		name := fmt.Sprint("client", i)
		p, err := talk.Dial(ctx, "tcp://"+ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		p.HandleFunc("client.name", func(r rpc.Responder, c *rpc.Call) { r.Return(name) })
		wg.Go(func() {
			var got string
			if _, err := p.Call(ctx, "server.whoami", nil, &got); err != nil {
				t.Errorf("%s: %v", name, err)
			} else if got != "you are "+name {
				t.Errorf("%s: got %q", name, got)
			}
		})
	}
	wg.Wait()
	ln.Close()
	var serr error
	within(t, "Serve", func() { serr = <-served })
	if !errors.Is(serr, net.ErrClosed) {
		t.Errorf("Serve after Close: %v, want net.ErrClosed", serr)
	}
}

// Serve runs its function for each peer; when its context ends, it closes
// the listener and the peers, and returns once the functions have.
func TestListenerServe(t *testing.T) {
	ctx, cancel := context.WithCancel(callCtx(t))
	ln, err := talk.Listen(ctx, "ws://127.0.0.1:0/")
	if err != nil {
		t.Fatal(err)
	}
	names := make(chan string, 2)
	served := make(chan error, 1)
	go func() {
		served <- ln.Serve(ctx, func(p *talk.Peer) {
			var name string
			if _, err := p.Call(ctx, "client.name", nil, &name); err != nil {
				name = err.Error()
			}
			names <- name
			<-p.Context().Done() // stays until Serve closes it
		})
	}()
	var clients []*talk.Peer
	for i := range 2 {
		m := rpc.NewRespondMux()
		m.HandleFunc("client.name", func(r rpc.Responder, c *rpc.Call) { r.Return(fmt.Sprint("client", i)) })
		p, err := talk.Dial(ctx, "ws://"+ln.Addr().String(), talk.WithHandler(m))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		clients = append(clients, p)
	}
	got := map[string]bool{}
	for range 2 {
		within(t, "a call from Serve's function", func() { got[<-names] = true })
	}
	if !got["client0"] || !got["client1"] {
		t.Errorf("Serve's function got %v, want client0 and client1", got)
	}
	cancel()
	var serr error
	within(t, "Serve", func() { serr = <-served })
	if !errors.Is(serr, context.Canceled) {
		t.Errorf("Serve: %v, want context.Canceled", serr)
	}
	for _, p := range clients {
		waitErr(t, p) // Serve closed the other side
	}
	if _, err := ln.Accept(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Serve: %v, want net.ErrClosed", err)
	}
}

func TestDialListenErrors(t *testing.T) {
	ctx := callCtx(t)
	if _, err := talk.Dial(ctx, "nope://x"); !errors.Is(err, transport.ErrBadAddress) {
		t.Errorf("Dial of a bad address: %v, want transport.ErrBadAddress", err)
	}
	if _, err := talk.Listen(ctx, "exec:cat"); !errors.Is(err, transport.ErrUnsupported) {
		t.Errorf("Listen on exec: %v, want transport.ErrUnsupported", err)
	}
	ln, err := talk.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + ln.Addr().String()
	ln.Close()
	var opErr *net.OpError
	if _, err := talk.Dial(ctx, addr); !errors.As(err, &opErr) {
		t.Errorf("Dial of a closed listener: %v, want a *net.OpError", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := talk.Dial(cctx, "stdio:"); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context: %v, want context.Canceled", err)
	}
}
