package rpc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// A client that does not read what a call sends it (its window stays
// full) holds the server's write for WriteTimeout at most: then the
// write fails with deadline_exceeded, so does the call's context, and
// the session's other calls go on.
func TestWriteTimeout(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler func(r rpc.Responder) error
	}{
		{"streamed values", func(r rpc.Responder) error {
			if err := r.Continue(nil); err != nil {
				return err
			}
			for {
				if err := r.Send(make([]byte, 64<<10)); err != nil {
					return err
				}
			}
		}},
		{"a large reply", func(r rpc.Responder) error {
			return r.Return(make([]byte, 3<<20))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			type result struct{ write, ctx error }
			done := make(chan result, 1)
			srv := &rpc.Server{WriteTimeout: 300 * time.Millisecond, Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
				if c.Selector != "flood" {
					r.Return("ok")
					return
				}
				err := tt.handler(r)
				done <- result{err, c.Context().Err()}
			})}
			h := start(t, tcp, srv)
			began := time.Now()
			rawCall(t, h.cs, appendFrame(appendFrame(nil, kindCall, callPayload("flood", "cbor", 0)), kindValue, cborNull)) // and never read
			res := waitFor(t, done, "the write to a client that does not read to fail")
			if d := time.Since(began); d < 250*time.Millisecond {
				t.Errorf("the write failed after %v, before the 300ms write timeout", d)
			}
			if !errors.Is(res.write, rpc.ErrDeadlineExceeded) || !errors.Is(res.ctx, context.DeadlineExceeded) {
				t.Errorf("the write failed with %v, the call's context with %v; want deadline exceeded", res.write, res.ctx)
			}
			var got string
			if _, err := h.client.Call(context.Background(), "x", nil, &got); err != nil || got != "ok" {
				t.Errorf("another call of the session: %q, %v", got, err)
			}
		})
	}
}
