package rpc_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// cborNull is the CBOR encoding of nil: arguments of no value.
var cborNull = []byte{0xf6}

// expectErrorFrame reads ch, within a generous bound, until a frame of
// kind (a reply or an ERROR frame) carrying an error, skipping the frames
// before it, and returns the error's code; then it expects the channel to
// end.
func expectErrorFrame(t *testing.T, ch mux.Channel, kind byte) uint64 {
	t.Helper()
	ch.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		k, p, err := readFrame(ch)
		if err != nil {
			t.Fatalf("waiting for an error of frame kind %d: %v", kind, err)
		}
		if k != kind {
			continue
		}
		var werr *wireError
		if kind == kindReply {
			_, werr, err = parseReplyHeader(p)
		} else {
			r := &wireReader{b: p}
			e := r.error()
			werr, err = &e, r.end()
		}
		if err != nil || werr == nil {
			t.Fatalf("frame kind %d: %v, error %v; want an error", k, err, werr)
		}
		if _, err := io.Copy(io.Discard, ch); err != nil {
			t.Errorf("after the error: %v, want the channel closed", err)
		}
		return werr.code
	}
}

// A call's deadline runs from its CALL header: a client that sends the
// header with a timeout and then no arguments, or half of them, gets
// deadline_exceeded once the timeout passed, well before RequestTimeout.
func TestDeadlineBeforeArguments(t *testing.T) {
	const timeout = 300 * time.Millisecond
	header := appendFrame(nil, kindCall, callPayload("x", "cbor", timeout))
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"no arguments", header},
		{"half the arguments", append(header, kindValue, 0, 0, 0, 8, 0x65)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ran := make(chan bool, 1)
			srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { ran <- true }), RequestTimeout: time.Hour}
			h := start(t, transportCase{name: "pipe", pair: pipePair}, srv)
			began := time.Now()
			ch := rawCall(t, h.cs, tt.data)
			if code := expectErrorFrame(t, ch, kindReply); code != uint64(rpc.CodeDeadlineExceeded) {
				t.Errorf("got code %d, want deadline_exceeded", code)
			}
			if d := time.Since(began); d < timeout-50*time.Millisecond {
				t.Errorf("deadline_exceeded after %v, before the %v timeout", d, timeout)
			}
			select {
			case <-ran:
				t.Error("the handler ran for a call without arguments")
			default:
			}
		})
	}
}

// The server ends a call whose deadline passed while its handler waits
// for the client's stream: the handler's Receive fails with
// deadline_exceeded, its context ends with context.DeadlineExceeded, and
// the client gets an ERROR frame with deadline_exceeded after the
// continue reply.
func TestDeadlineWhileReceiving(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler func(r rpc.Responder, c *rpc.Call) error
	}{
		{"handler returns the error", func(r rpc.Responder, c *rpc.Call) error {
			r.Continue(nil)
			c.Receive(nil) // the arguments
			err := c.Receive(nil)
			r.Error(err)
			return err
		}},
		{"handler returns without answering", func(r rpc.Responder, c *rpc.Call) error {
			r.Continue(nil)
			c.Receive(nil) // the arguments
			return c.Receive(nil)
		}},
		{"handler watches its context", func(r rpc.Responder, c *rpc.Call) error {
			r.Continue(nil)
			<-c.Context().Done()
			return c.Context().Err()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			type result struct{ received, ctx error }
			done := make(chan result, 1)
			h := startFunc(t, transportCase{name: "pipe", pair: pipePair}, func(r rpc.Responder, c *rpc.Call) {
				err := tt.handler(r, c)
				done <- result{err, c.Context().Err()}
			})
			ch := rawCall(t, h.cs, appendFrame(appendFrame(nil, kindCall, callPayload("x", "cbor", 300*time.Millisecond)), kindValue, cborNull))
			if code := expectErrorFrame(t, ch, kindError); code != uint64(rpc.CodeDeadlineExceeded) {
				t.Errorf("got code %d, want deadline_exceeded", code)
			}
			res := waitFor(t, done, "the handler")
			if !errors.Is(res.received, context.DeadlineExceeded) || !errors.Is(res.ctx, context.DeadlineExceeded) {
				t.Errorf("the handler saw %v, its context %v; want deadline exceeded", res.received, res.ctx)
			}
		})
	}
}

// A unary handler that answers after the deadline passed does not send
// its result: the client gets deadline_exceeded, as when the handler
// returns the context's error.
func TestLateReply(t *testing.T) {
	h := startFunc(t, transportCase{name: "pipe", pair: pipePair}, func(r rpc.Responder, c *rpc.Call) {
		<-c.Context().Done()
		r.Return("late")
	})
	ch := rawCall(t, h.cs, appendFrame(appendFrame(nil, kindCall, callPayload("x", "cbor", 100*time.Millisecond)), kindValue, cborNull))
	if code := expectErrorFrame(t, ch, kindReply); code != uint64(rpc.CodeDeadlineExceeded) {
		t.Errorf("got code %d, want deadline_exceeded", code)
	}
}

// A result followed by an ERROR frame is a failure: the client reads the
// result, and then the error where a normal end (io.EOF) would come.
func TestResultThenError(t *testing.T) {
	h := startFunc(t, transportCase{name: "pipe", pair: pipePair}, func(r rpc.Responder, c *rpc.Call) {
		r.Continue(nil)
		r.Send(42)
		r.Error(rpc.Errorf(rpc.CodeDataLoss, "lost"))
	})
	resp, err := h.client.Call(context.Background(), "x", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var got int
	if err := resp.Receive(&got); err != nil || got != 42 {
		t.Fatalf("the result: %d, %v; want 42", got, err)
	}
	if err := resp.Receive(nil); rpc.CodeOf(err) != rpc.CodeDataLoss {
		t.Fatalf("after the result: %v, want the server's data_loss error", err)
	}
}
