package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// upstreamMux serves what the forwarding tests call, under "up.":
//
//	up.echo        returns its argument, the selector it was called by and
//	               the metadata "k"
//	up.fail        fails with not_found, details 2a
//	up.count n     streams 0..n-1
//	up.sum         continues, sums the client's ints until END, sends the sum
//	up.raw         echoes raw bytes in upper case until EOF, then CloseWrite
//	up.hold        streams 1 value, then waits for its context, reports its
//	               error on ctxErr and ends the stream with it
//	up.deadline    returns whether its context has a deadline, and how far
func upstreamMux(ctxErr chan<- error) *rpc.RespondMux {
	m := rpc.NewRespondMux()
	m.HandleFunc("up.echo", func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return([]string{s, c.FullSelector, c.Metadata["k"]})
	})
	m.HandleFunc("up.fail", func(r rpc.Responder, c *rpc.Call) {
		r.Error(&rpc.Error{Code: rpc.CodeNotFound, Message: "no such thing", Details: []byte{0x2a}})
	})
	m.HandleFunc("up.count", func(r rpc.Responder, c *rpc.Call) {
		var n int
		if err := c.Receive(&n); err != nil {
			r.Error(err)
			return
		}
		r.Continue(nil)
		for i := range n {
			if r.Send(i) != nil {
				return
			}
		}
	})
	m.HandleFunc("up.sum", func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		r.Continue(nil)
		sum := 0
		for {
			var x int
			err := c.Receive(&x)
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Error(err)
				return
			}
			sum += x
		}
		r.Send(sum)
	})
	m.HandleFunc("up.raw", func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		r.Continue(nil)
		conn := r.Conn()
		data, _ := io.ReadAll(conn)
		conn.Write(bytes.ToUpper(data))
		conn.CloseWrite()
	})
	m.HandleFunc("up.hold", func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		r.Continue(nil)
		r.Send(1)
		<-c.Context().Done()
		ctxErr <- c.Context().Err()
		r.Error(c.Context().Err())
	})
	m.HandleFunc("up.deadline", func(r rpc.Responder, c *rpc.Call) {
		d, ok := c.Context().Deadline()
		r.Return([]any{ok, time.Until(d).Seconds()})
	})
	return m
}

// A chain is a client calling a proxy that forwards to an upstream, each
// over a session pair of the transport.
type chain struct {
	client   *rpc.Client
	upstream *harness // the upstream server and the proxy's session to it
	proxy    *harness // the proxy server and the client's session to it
	ctxErr   chan error
}

// forwardTo returns a handler that forwards every call with the upstream
// client as "up." and its selector (Client.Forward, on channels opened
// ahead), answering the errors that leave it unanswered. TestForwardChain
// and TestForwardRetry use the package-level Forward.
func forwardTo(upstream func() *rpc.Client, opts ...rpc.ForwardOption) rpc.HandlerFunc {
	return func(r rpc.Responder, c *rpc.Call) {
		if err := upstream().Forward(c.Context(), r, c, "up."+c.Selector, opts...); err != nil {
			r.Error(err)
		}
	}
}

func newChain(t *testing.T, tc transportCase) *chain {
	ch := &chain{ctxErr: make(chan error, 1)}
	ch.upstream = start(t, tc, &rpc.Server{Handler: upstreamMux(ch.ctxErr)})
	ch.proxy = start(t, tc, &rpc.Server{Handler: forwardTo(func() *rpc.Client { return ch.upstream.client })})
	ch.client = ch.proxy.client
	return ch
}

func TestForwardUnary(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		var got []string
		_, err := ch.client.Call(context.Background(), "echo", "hi", &got, rpc.WithMetadata(rpc.Metadata{"k": "v"}))
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"hi", "up.echo", "v"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %q, want %q", got, want)
		}

		// An error reply crosses with its code, message and details.
		_, err = ch.client.Call(context.Background(), "fail", nil, nil)
		e := asRPCError(t, err)
		if e.Code != rpc.CodeNotFound || e.Message != "no such thing" || !bytes.Equal(e.Details, []byte{0x2a}) {
			t.Errorf("error %+v, want the upstream's", e)
		}
		_, err = ch.client.Call(context.Background(), "nope", nil, nil)
		if !errors.Is(err, rpc.ErrNotFound) {
			t.Errorf("call of an unknown selector: %v, want not_found", err)
		}
	})
}

func TestForwardStreams(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		ctx := context.Background()

		resp, err := ch.client.Call(ctx, "count", 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			var x int
			err := resp.Receive(&x)
			if err == io.EOF {
				if i != 100 {
					t.Errorf("stream ended after %d values, want 100", i)
				}
				break
			}
			if err != nil || x != i {
				t.Fatalf("value %d: %d, %v", i, x, err)
			}
		}
		resp.Close()

		resp, err = ch.client.Call(ctx, "sum", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 10; i++ {
			if err := resp.Send(i); err != nil {
				t.Fatal(err)
			}
		}
		resp.CloseSend()
		var sum int
		if err := resp.Receive(&sum); err != nil || sum != 55 {
			t.Errorf("sum = %d, %v; want 55", sum, err)
		}
		if err := resp.Receive(nil); err != io.EOF {
			t.Errorf("after the sum: %v, want io.EOF", err)
		}
		resp.Close()
	})
}

func TestForwardRaw(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		resp, err := ch.client.Call(context.Background(), "raw", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		conn := resp.Conn()
		// More than a window's worth, starting like a frame.
		data := append([]byte{3, 0, 0, 0, 1}, bytes.Repeat([]byte("abcdefgh"), 64<<10)...)
		go func() {
			conn.Write(data)
			conn.CloseWrite()
		}()
		got, err := io.ReadAll(conn)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, bytes.ToUpper(data)) {
			t.Errorf("got %d bytes back, want %d upper-cased", len(got), len(data))
		}
	})
}

// A client that cancels cancels the upstream's handler, through the
// CANCEL frame it sends, forwarded as it is.
func TestForwardCancel(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		ctx, cancel := context.WithCancel(context.Background())
		resp, err := ch.client.Call(ctx, "hold", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if err := resp.Receive(nil); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := waitFor(t, ch.ctxErr, "the upstream's handler to be cancelled"); !errors.Is(err, context.Canceled) {
			t.Errorf("upstream handler's context: %v, want context.Canceled", err)
		}
	})
}

// The deadline crosses as the time left; a shorter one at the proxy ends
// the stream with deadline_exceeded and cancels the upstream's handler.
func TestForwardDeadline(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var got struct {
			OK   bool
			Left float64
		}
		var reply []any
		if _, err := ch.client.Call(ctx, "deadline", nil, &reply); err != nil {
			t.Fatal(err)
		}
		got.OK, _ = reply[0].(bool)
		got.Left, _ = reply[1].(float64)
		if !got.OK || got.Left <= 0 || got.Left > 60 {
			t.Errorf("the upstream's deadline: %v, want within a minute", reply)
		}

		shorter := newHeldDeadline(t, context.Background())
		short := start(t, tc, &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			if err := rpc.Forward(shorter, r, c, ch.upstream.cs, "up."+c.Selector); err != nil {
				r.Error(err)
			}
		})})
		resp, err := short.client.Call(context.Background(), "hold", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if err := resp.Receive(nil); err != nil {
			t.Fatalf("the stream's first value: %v", err)
		}
		shorter.expire()
		if err := resp.Receive(nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("stream past the proxy's deadline: %v, want deadline_exceeded", err)
		}
		if err := waitFor(t, ch.ctxErr, "the upstream's handler to end"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("upstream handler's context: %v, want context.DeadlineExceeded", err)
		}
	})
}

// When the upstream's session dies in the middle of a stream, the client
// gets unavailable rather than a clean end of the stream; new calls fail
// with unavailable too.
func TestForwardUpstreamDies(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		resp, err := ch.client.Call(context.Background(), "hold", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if err := resp.Receive(nil); err != nil {
			t.Fatal(err)
		}
		ch.upstream.ss.Close()
		if err := resp.Receive(nil); rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("stream after the upstream died: %v, want unavailable", err)
		}
		_, err = ch.client.Call(context.Background(), "echo", "x", nil)
		if rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("call after the upstream died: %v, want unavailable", err)
		}
	})
}

// Calls forward through two proxies as through one.
func TestForwardChain(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		front := start(t, tc, &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			if err := rpc.Forward(c.Context(), r, c, ch.proxy.cs, c.Selector); err != nil {
				r.Error(err)
			}
		})})
		var got []string
		if _, err := front.client.Call(context.Background(), "echo", "hi", &got); err != nil {
			t.Fatal(err)
		}
		if got[0] != "hi" || got[1] != "up.echo" {
			t.Errorf("got %q", got)
		}
		resp, err := front.client.Call(context.Background(), "raw", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		conn := resp.Conn()
		conn.Write([]byte("chain"))
		conn.CloseWrite()
		if data, err := io.ReadAll(conn); err != nil || string(data) != "CHAIN" {
			t.Errorf("raw through two proxies: %q, %v", data, err)
		}
	})
}

// A call Forward could not send is intact: the handler can forward it
// elsewhere. OnReply marks the reply of the one that worked.
func TestForwardRetry(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ch := newChain(t, tc)
		dead, _ := tc.pair(t)
		dead.Close()
		firstErrs := make(chan error, 1)
		var replied atomic.Int32
		h := start(t, tc, &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			firstErr := rpc.Forward(c.Context(), r, c, dead, "up."+c.Selector)
			firstErrs <- firstErr
			if errors.Is(firstErr, rpc.ErrAnswered) {
				return
			}
			err := rpc.Forward(c.Context(), r, c, ch.upstream.cs, "up."+c.Selector, rpc.OnReply(func() { replied.Add(1) }))
			if err != nil {
				r.Error(err)
			}
		})})
		var got []string
		if _, err := h.client.Call(context.Background(), "echo", "again", &got); err != nil {
			t.Fatal(err)
		}
		if got[0] != "again" {
			t.Errorf("got %q", got)
		}
		if firstErr := waitFor(t, firstErrs, "the first Forward"); !errors.Is(firstErr, rpc.ErrNotStarted) || rpc.CodeOf(firstErr) != rpc.CodeUnavailable {
			t.Errorf("Forward to a closed session: %v, want ErrNotStarted and unavailable", firstErr)
		}
		if replied.Load() != 1 {
			t.Errorf("OnReply called %d times, want 1", replied.Load())
		}
	})
}

// closedAhead is a session whose channels opened ahead are closed before
// they are used, as if the peer had closed them while they waited.
type closedAhead struct{ mux.Session }

func (s closedAhead) OpenEarly(ctx context.Context) (mux.Channel, error) {
	ch, err := s.Open(ctx)
	if err == nil {
		ch.Close()
	}
	return ch, err
}

// Client.Forward sends a call whose channel opened ahead is gone on a new
// one, as Client.Call does.
func TestForwardClosedAhead(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		up := start(t, tc, &rpc.Server{Handler: upstreamMux(nil)})
		upstream := rpc.NewClient(closedAhead{up.cs})
		proxy := start(t, tc, &rpc.Server{Handler: forwardTo(func() *rpc.Client { return upstream })})
		for i := range 3 { // the first on a new channel, the others on closed ones first
			var got []string
			if _, err := proxy.client.Call(context.Background(), "echo", "x", &got); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			if got[0] != "x" {
				t.Fatalf("call %d: got %q", i, got)
			}
		}
	})
}

// wrapped hides the server's Responder.
type wrapped struct{ rpc.Responder }

type unwrapping struct{ rpc.Responder }

func (u unwrapping) Unwrap() rpc.Responder { return u.Responder }

func TestForwardMisuse(t *testing.T) {
	ch := newChain(t, transports[0])
	errs := make(chan error, 3)
	h := startFunc(t, transports[0], func(r rpc.Responder, c *rpc.Call) {
		switch c.Selector {
		case "wrapped":
			errs <- rpc.Forward(c.Context(), wrapped{r}, c, ch.upstream.cs, "up.echo")
		case "unwrapping":
			err := rpc.Forward(c.Context(), unwrapping{r}, c, ch.upstream.cs, "up.echo")
			errs <- err
			return
		case "received":
			c.Receive(nil)
			errs <- rpc.Forward(c.Context(), r, c, ch.upstream.cs, "up.echo")
		case "answered":
			r.Return(nil)
			errs <- rpc.Forward(c.Context(), r, c, ch.upstream.cs, "up.echo")
		}
	})
	for _, tt := range []struct {
		sel  string
		want func(error) bool
	}{
		{"wrapped", func(err error) bool { return rpc.CodeOf(err) == rpc.CodeInternal }},
		{"unwrapping", func(err error) bool { return err == nil }},
		{"received", func(err error) bool { return rpc.CodeOf(err) == rpc.CodeInternal }},
		{"answered", func(err error) bool { return errors.Is(err, rpc.ErrAnswered) }},
	} {
		h.client.Call(context.Background(), tt.sel, "x", nil)
		if err := waitFor(t, errs, tt.sel); !tt.want(err) {
			t.Errorf("%s: Forward returned %v", tt.sel, err)
		}
	}
}

// A raw stream half-closed by the upstream first goes on the other way:
// the upstream says hello and ends its bytes, then reads the client's.
func TestForwardHalfClose(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		got := make(chan []byte, 1)
		up := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			r.Continue(nil)
			conn := r.Conn()
			conn.Write([]byte("hello"))
			conn.CloseWrite()
			data, _ := io.ReadAll(conn)
			got <- data
		})
		proxy := start(t, tc, &rpc.Server{Handler: forwardTo(func() *rpc.Client { return up.client })})
		resp, err := proxy.client.Call(context.Background(), "half", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		conn := resp.Conn()
		if hello, err := io.ReadAll(conn); err != nil || string(hello) != "hello" {
			t.Fatalf("read %q, %v; want hello then EOF", hello, err)
		}
		data := bytes.Repeat([]byte("after the upstream's EOF "), 10000)
		if _, err := conn.Write(data); err != nil {
			t.Fatal(err)
		}
		conn.CloseWrite()
		if d := waitFor(t, got, "the upstream's read"); !bytes.Equal(d, data) {
			t.Errorf("the upstream read %d bytes, want %d", len(d), len(data))
		}
	})
}

// When the upstream closes a raw stream (its handler returns) while the
// client still holds the call open, sending nothing, Forward returns once
// the upstream's close arrives: it learns of the close from the channel
// (mux.WriteDoneChannel), without waiting for the client to end too.
func TestForwardUpstreamCloses(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		up := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			r.Continue(nil)
			r.Conn().Write([]byte("bye"))
		})
		forwarded := make(chan error, 1)
		proxy := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			forwarded <- rpc.Forward(c.Context(), r, c, up.cs, "bye")
		})
		resp, err := proxy.client.Call(context.Background(), "bye", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if err := waitFor(t, forwarded, "Forward to return while the client holds the call"); err != nil && !errors.Is(err, rpc.ErrAnswered) {
			t.Errorf("Forward returned %v, want nil or an error matching ErrAnswered", err)
		}
		if got, err := io.ReadAll(resp.Conn()); err != nil || string(got) != "bye" {
			t.Errorf("the client read %q, %v; want bye then EOF", got, err)
		}
	})
}

// A unary reply ends the forwarded call once the client has it: Forward
// returns while the upstream's handler, having replied, has yet to
// return and close the channel, as a client's Call would.
func TestForwardUnaryReturnsAtReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		release := make(chan struct{})
		returned := make(chan struct{})
		up := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			defer close(returned)
			var s string
			c.Receive(&s)
			r.Return(s + "!")
			<-release
		})
		t.Cleanup(func() {
			close(release)
			<-returned
		})
		forwarded := make(chan error, 1)
		proxy := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			forwarded <- up.client.Forward(c.Context(), r, c, "held")
		})
		var got string
		if _, err := proxy.client.Call(context.Background(), "held", "hi", &got); err != nil || got != "hi!" {
			t.Fatalf("call: %q, %v; want hi!", got, err)
		}
		if err := waitFor(t, forwarded, "Forward to return while the upstream's handler has not"); err != nil {
			t.Errorf("Forward returned %v, want nil", err)
		}
		select {
		case <-returned:
			t.Fatal("the upstream's handler returned before it was released")
		default:
		}
	})
}
