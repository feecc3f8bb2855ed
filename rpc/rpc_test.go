package rpc

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// sessionPair returns the two ends of a qmux session over an in-memory
// pipe, closed and waited for when the test ends.
func sessionPair(t testing.TB) (cs, ss *qmux.Session) {
	t.Helper()
	c1, c2 := pipe.New()
	cs, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err = qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Close()
		cs.Wait()
		ss.Wait()
	})
	return cs, ss
}

// serve starts a server with h on one end of an in-memory session pair and
// returns a client for the other end.
func serve(t testing.TB, h Handler, opts ...ClientOption) *Client {
	t.Helper()
	cs, ss := sessionPair(t)
	srv := &Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
	}()
	t.Cleanup(func() {
		cs.Close()
		ss.Close()
		<-done
		srv.Shutdown(context.Background())
	})
	return NewClient(cs, opts...)
}

func echoMux() *RespondMux {
	m := NewRespondMux()
	m.HandleFunc("echo", func(r Responder, c *Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return(s)
	})
	return m
}

func TestUnary(t *testing.T) {
	for _, codec := range []Codec{CBOR, JSON} {
		t.Run(codec.Name(), func(t *testing.T) {
			cl := serve(t, echoMux(), WithCodec(codec))
			var got string
			if _, err := cl.Call(context.Background(), "echo", "hello", &got); err != nil {
				t.Fatal(err)
			}
			if got != "hello" {
				t.Fatalf("got %q, want %q", got, "hello")
			}
		})
	}
}

// TestDoneResponse checks the Response of calls whose reply did not
// continue: one for all of them, closed, its methods failing as on a
// closed channel, while a continued call gets a Response of its own.
func TestDoneResponse(t *testing.T) {
	m := echoMux()
	m.HandleFunc("stream", func(r Responder, c *Call) {
		if r.Continue(nil) == nil {
			r.Send("one")
		}
	})
	cl := serve(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got string
	r1, err := cl.Call(ctx, "echo", "a", &got)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := cl.Call(context.Background(), "echo", "b", &got)
	if err != nil {
		t.Fatal(err)
	}
	if r1 != r2 || r1.Continue || got != "b" {
		t.Fatalf("responses %p and %p, Continue %v, got %q: want one shared, not continued, and %q", r1, r2, r1.Continue, got, "b")
	}
	if err := r1.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r1.Receive(&got); !errors.Is(err, mux.ErrChannelClosed) {
		t.Errorf("Receive: %v, want %v", err, mux.ErrChannelClosed)
	}
	if err := r1.Send("x"); !errors.Is(err, mux.ErrChannelClosed) {
		t.Errorf("Send: %v, want %v", err, mux.ErrChannelClosed)
	}
	if err := r1.CloseSend(); !errors.Is(err, mux.ErrChannelClosed) {
		t.Errorf("CloseSend: %v, want %v", err, mux.ErrChannelClosed)
	}
	if _, err := r1.Conn().Read(make([]byte, 1)); !errors.Is(err, mux.ErrChannelClosed) {
		t.Errorf("Conn().Read: %v, want %v", err, mux.ErrChannelClosed)
	}

	rs, err := cl.Call(ctx, "stream", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if rs == r1 || !rs.Continue {
		t.Fatalf("continued call: Response %p (Continue %v), want one of its own", rs, rs.Continue)
	}
	if err := rs.Receive(&got); err != nil || got != "one" {
		t.Fatalf("stream: got %q, %v", got, err)
	}
	if _, err := cl.Call(ctx, "echo", "c", &got); err != nil || got != "c" {
		t.Fatalf("echo during the stream: got %q, %v", got, err)
	}
	if err := rs.Receive(&got); err != io.EOF {
		t.Fatalf("end of stream: %v, want io.EOF", err)
	}
}

func TestNotFound(t *testing.T) {
	cl := serve(t, echoMux())
	_, err := cl.Call(context.Background(), "nope", nil, nil)
	if !errors.Is(err, ErrNotFound) || CodeOf(err) != CodeNotFound {
		t.Fatalf("got %v, want a not-found error", err)
	}
}

func TestHandlerCancelledWhenClientCancels(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	cl := serve(t, HandlerFunc(func(r Responder, c *Call) {
		close(started)
		<-c.Context().Done()
		cancelled <- c.Context().Err()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := cl.Call(ctx, "wait", nil, nil)
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client got %v, want context.Canceled", err)
	}
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler context ended with %v", err)
	}
}

func TestDeadlineCrossesTheWire(t *testing.T) {
	handlerDeadline := make(chan time.Time, 1)
	cl := serve(t, HandlerFunc(func(r Responder, c *Call) {
		d, _ := c.Context().Deadline()
		handlerDeadline <- d
		<-c.Context().Done()
		r.Error(c.Context().Err())
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := cl.Call(ctx, "slow", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	d := <-handlerDeadline
	if d.IsZero() {
		t.Fatal("handler context had no deadline")
	}
}

func TestServerStream(t *testing.T) {
	cl := serve(t, HandlerFunc(func(r Responder, c *Call) {
		var n int
		c.Receive(&n)
		r.Continue(n)
		for i := range n {
			if err := r.Send(i); err != nil {
				return
			}
		}
	}))
	resp, err := cl.Call(context.Background(), "count", 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	if !resp.Continue {
		t.Fatal("reply does not continue")
	}
	for want := range 5 {
		var got int
		if err := resp.Receive(&got); err != nil || got != want {
			t.Fatalf("got %d, %v; want %d", got, err, want)
		}
	}
	if err := resp.Receive(nil); !errors.Is(err, io.EOF) {
		t.Fatalf("after the stream: %v, want io.EOF", err)
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	m := echoMux()
	m.HandleFunc("boom", func(Responder, *Call) { panic("boom") })
	cl := serve(t, m)
	if _, err := cl.Call(context.Background(), "boom", nil, nil); CodeOf(err) != CodeInternal {
		t.Fatalf("got %v, want an internal error", err)
	}
	var s string
	if _, err := cl.Call(context.Background(), "echo", "still here", &s); err != nil || s != "still here" {
		t.Fatalf("server after a panic: %q, %v", s, err)
	}
}

func BenchmarkUnary(b *testing.B) {
	cl := serve(b, echoMux())
	payload := string(make([]byte, 64))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var s string
		if _, err := cl.Call(ctx, "echo", payload, &s); err != nil {
			b.Fatal(err)
		}
	}
}
