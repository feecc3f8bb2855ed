package rpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// Messages reach the handler in the order sent, each once, and nothing
// answers them; calls keep working beside them.
func TestSendOrder(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		const n = 500
		got := make(chan int, n)
		m := rpc.NewRespondMux()
		m.HandleFunc("note", func(r rpc.Responder, c *rpc.Call) {
			var i int
			if err := c.Receive(&i); err != nil {
				t.Errorf("Receive: %v", err)
			}
			got <- i
			r.Return("ignored") // goes nowhere
		})
		m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
			var s string
			c.Receive(&s)
			r.Return(s)
		})
		h := start(t, tc, &rpc.Server{Handler: m})
		ctx := context.Background()
		for i := range n {
			if err := h.client.Send(ctx, "note", i); err != nil {
				t.Fatalf("Send %d: %v", i, err)
			}
		}
		var s string
		if _, err := h.client.Call(ctx, "echo", "still calls", &s); err != nil || s != "still calls" {
			t.Errorf("Call beside messages: %q, %v", s, err)
		}
		for i := range n {
			if v := waitFor(t, got, "a message"); v != i {
				t.Fatalf("message %d is %d: out of order", i, v)
			}
		}
	})
}

// A sender does not wait for the handler: Sends return while the handler
// of the first message is still blocked. Once the handler falls a window
// behind, Send blocks (flow control), and its ctx ends the wait; nothing
// is queued without bound.
func TestSendBackpressure(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		release := make(chan struct{})
		started := make(chan struct{}, 1)
		var handled sync.WaitGroup
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			defer handled.Done()
			c.Receive(nil)
			select {
			case started <- struct{}{}:
			default:
			}
			<-release
		})
		payload := make([]byte, 64<<10)
		ctx := context.Background()
		handled.Add(1)
		if err := h.client.Send(ctx, "slow", payload); err != nil {
			t.Fatal(err)
		}
		waitFor(t, started, "the first handler")
		// The handler is blocked: a Send still returns (it would hang if
		// it waited for the handler), and Sends go on until the window is
		// full. Each later one is bounded, the last by flow control; a
		// bound may also pass on a loaded machine before the window is
		// full (under the race detector, 200 ms passed in the second
		// Send over QUIC), which stops the count early and changes
		// nothing else.
		handled.Add(1)
		if err := h.client.Send(ctx, "slow", payload); err != nil {
			t.Fatal(err)
		}
		sent := 2
		var err error
		for sent < 1000 {
			sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			handled.Add(1)
			err = h.client.Send(sctx, "slow", payload)
			cancel()
			if err != nil {
				handled.Done()
				break
			}
			sent++
		}
		if !errors.Is(err, rpc.ErrDeadlineExceeded) {
			t.Fatalf("after %d messages of 64 KiB to a stalled handler: %v, want a Send blocked until its deadline", sent, err)
		}
		if sent*len(payload) > 32<<20 {
			t.Errorf("%d messages of 64 KiB went out before Send blocked, want no more than 32 MiB", sent)
		}
		close(release)
		// The message cut short was not delivered; the next Send opens a
		// new channel and works.
		handled.Add(1)
		if err := h.client.Send(ctx, "slow", payload); err != nil {
			t.Errorf("Send after the blocked one: %v", err)
		}
		handled.Wait()
	})
}

// A server that cannot take the messages (an unknown codec) refuses the
// channel: Send reports it with ErrSendFailed and the server's error.
func TestSendRefused(t *testing.T) {
	h := startFunc(t, transports[0], func(r rpc.Responder, c *rpc.Call) {
		t.Error("the handler ran for a codec the server does not know")
	}, rpc.WithCodec(xorCodec{"x-send", 0x11}))
	// The refusal comes back while Sends go on: however many a loaded
	// machine lets out before it (the window holds tens of thousands), the
	// first Send after it fails.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	for err == nil {
		err = h.client.Send(ctx, "x", "hello")
	}
	if !errors.Is(err, rpc.ErrSendFailed) || rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Errorf("Send with an unknown codec: %v, want ErrSendFailed with unimplemented", err)
	}
}

// A server without messages support sees a first frame it does not know
// and answers malformed: a MESSAGE frame is kind 7, followed by VALUEs.
func TestMessageWire(t *testing.T) {
	got := make(chan string, 2)
	h := startFunc(t, transports[0], func(r rpc.Responder, c *rpc.Call) {
		var s string
		c.Receive(&s)
		got <- c.FullSelector + " " + s
	})
	msg := appendFrame(nil, 7, callPayload("log", "cbor", 0))
	msg = appendFrame(msg, 3, []byte{0x61, 'a'}) // CBOR "a"
	msg = appendFrame(msg, 3, []byte{0x61, 'b'})
	ch := rawCall(t, h.cs, msg)
	for _, want := range []string{"log a", "log b"} {
		if s := waitFor(t, got, "a message"); s != want {
			t.Errorf("got %q, want %q", s, want)
		}
	}
	ch.CloseWrite()
	// The server writes nothing and closes the channel.
	if kind, _, err := readFrame(ch); err == nil {
		t.Errorf("the server wrote a frame of kind %d on a messages' channel", kind)
	}
}
