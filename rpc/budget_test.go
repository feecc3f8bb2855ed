package rpc_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// refusedWithin only turns a refusal that never comes into a failure: 5 s
// was missed once under -race with both cores loaded 20 times over (the
// test's cleanup then took 14 s more), and 200 runs at load 15-20 passed.
const refusedWithin = 30 * time.Second

// expectRefusedQuickly reads ch until it ends, within d, and checks that
// the server said nothing but a reply (the refusal) before closing it,
// and that the refusal gives the reason why.
func expectRefusedQuickly(t *testing.T, ch mux.Channel, d time.Duration, why string) {
	t.Helper()
	ch.SetReadDeadline(time.Now().Add(d))
	kind, p, err := readFrame(ch)
	if err != nil {
		t.Fatalf("a channel past the budget got no refusal within %v: %v", d, err)
	}
	if kind != 2 {
		t.Errorf("the server answered with frame kind %d, want a reply (2) refusing the call", kind)
	}
	if !bytes.Contains(p, []byte(why)) {
		t.Errorf("the refusal %q does not say %q", p, why)
	}
	if _, err := io.Copy(io.Discard, ch); err != nil {
		t.Errorf("after the refusal: %v, want the channel closed", err)
	}
}

// TestRequestTimeout: a channel that never carries a call is refused
// after RequestTimeout, and other calls go on.
func TestRequestTimeout(t *testing.T) {
	srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("ok") }), RequestTimeout: 200 * time.Millisecond}
	h := start(t, transportCase{name: "pipe", pair: pipePair}, srv)
	ch, err := h.cs.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	start := time.Now()
	expectRefusedQuickly(t, ch, refusedWithin, "request timeout")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("refused after %v, before the 200ms request timeout", d)
	}
	var got string
	if _, err := h.client.Call(context.Background(), "x", nil, &got); err != nil || got != "ok" {
		t.Errorf("a call after the refusal: %q, %v", got, err)
	}
}

// TestMaxWaitingChannels: while as many channels as the bound have waited
// over a second for their call, a new channel is refused at once.
func TestMaxWaitingChannels(t *testing.T) {
	srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("ok") }), MaxWaitingChannels: 2, RequestTimeout: -1}
	h := start(t, transportCase{name: "pipe", pair: pipePair}, srv, rpc.WithOpenAhead(0))
	for range 2 {
		ch, err := h.cs.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
	}
	<-time.After(1500 * time.Millisecond) // the two are stale: they count against the bound
	ch, err := h.cs.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	expectRefusedQuickly(t, ch, refusedWithin, "MaxWaitingChannels")
}

// TestMaxFrameMemory: the frames a session's calls hold count against
// MaxFrameMemory. A call whose arguments would take the session past it
// fails with resource_exhausted while the others go on, and once a call
// ends, what it held is given back.
func TestMaxFrameMemory(t *testing.T) {
	held := make(chan struct{})
	release := make(chan struct{})
	srv := &rpc.Server{MaxFrameMemory: 1 << 20, Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		var b []byte
		if err := c.Receive(&b); err != nil {
			r.Error(err)
			return
		}
		if c.Selector == "hold" {
			held <- struct{}{}
			<-release
		}
		r.Return(len(b))
	})}
	h := start(t, transportCase{name: "pipe", pair: pipePair}, srv)
	args := make([]byte, 600<<10) // its frame takes over half the budget
	holding := make(chan error, 1)
	go func() {
		_, err := h.client.Call(context.Background(), "hold", args, nil)
		holding <- err
	}()
	waitFor(t, held, "the first call's handler")
	_, err := h.client.Call(context.Background(), "other", args, nil)
	if e := asRPCError(t, err); e.Code != rpc.CodeResourceExhausted {
		t.Errorf("a second call of 600 KiB while the first holds its frame: %v, want resource_exhausted", err)
	}
	var n int
	if _, err := h.client.Call(context.Background(), "small", make([]byte, 1<<10), &n); err != nil || n != 1<<10 {
		t.Errorf("a small call meanwhile: %d, %v", n, err)
	}
	close(release)
	if err := waitFor(t, holding, "the first call"); err != nil {
		t.Errorf("the first call: %v", err)
	}
	if _, err := h.client.Call(context.Background(), "other", args, &n); err != nil || n != len(args) {
		t.Errorf("a call of 600 KiB once the first ended: %d, %v", n, err)
	}
}
