package rpc_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// trace records the steps of interceptors and handlers, in order.
type trace struct {
	mu    sync.Mutex
	steps []string
}

func (tr *trace) add(s string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.steps = append(tr.steps, s)
}

func (tr *trace) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.steps)
}

// serverStep records name around the handler it wraps.
func serverStep(tr *trace, name string) rpc.Interceptor {
	return rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			tr.add(name + " in " + c.FullSelector)
			next.RespondRPC(r, c)
			tr.add(name + " out")
		})
	})
}

// clientStep records name around the call it wraps and adds it to the
// metadata key "via".
func clientStep(tr *trace, name string) rpc.Interceptor {
	return rpc.ClientInterceptorFunc(func(next rpc.CallFunc) rpc.CallFunc {
		return func(ctx context.Context, call *rpc.OutgoingCall) (*rpc.Response, error) {
			tr.add(name + " call " + call.Selector)
			call.Metadata["via"] += name
			resp, err := next(ctx, call)
			tr.add(name + " done")
			return resp, err
		}
	})
}

func TestInterceptorsChained(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		clientTrace, serverTrace := &trace{}, &trace{}
		served := make(chan struct{})
		outermost := rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
			return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
				defer close(served)
				next.RespondRPC(r, c)
			})
		})
		handler := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			serverTrace.add("handler")
			r.Return(c.Metadata)
		})
		srv := &rpc.Server{Handler: rpc.Intercept(handler, outermost, serverStep(serverTrace, "s1"), serverStep(serverTrace, "s2"))}
		h := start(t, tc, srv, rpc.WithInterceptors(clientStep(clientTrace, "c1"), clientStep(clientTrace, "c2")))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		md := rpc.Metadata{"k": "v"}
		var got rpc.Metadata
		if _, err := h.client.Call(ctx, "m:x", nil, &got, rpc.WithMetadata(md)); err != nil {
			t.Fatal(err)
		}
		if want := (rpc.Metadata{"k": "v", "via": "c1c2"}); !maps.Equal(got, want) {
			t.Errorf("the handler got metadata %v, want %v", got, want)
		}
		if len(md) != 1 {
			t.Errorf("the interceptors changed the caller's metadata: %v", md)
		}
		if got, want := clientTrace.get(), []string{"c1 call m:x", "c2 call m:x", "c2 done", "c1 done"}; !slices.Equal(got, want) {
			t.Errorf("client steps %q, want %q", got, want)
		}
		waitFor(t, served, "the handler's end")
		if got, want := serverTrace.get(), []string{"s1 in m:x", "s2 in m:x", "handler", "s2 out", "s1 out"}; !slices.Equal(got, want) {
			t.Errorf("server steps %q, want %q", got, want)
		}
	})
}

// TestInterceptorRefuses has a server interceptor refuse calls without a
// metadata key, and a client interceptor see a stream continue.
func TestInterceptorRefuses(t *testing.T) {
	requireKey := rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			if c.Metadata["key"] != "open sesame" {
				r.Error(rpc.Errorf(rpc.CodePermissionDenied, "no key for %s from %s", c.FullSelector, c.Peer().Addr.Network()))
				return
			}
			next.RespondRPC(r, c)
		})
	})
	var continued []bool
	var mu sync.Mutex
	seeStreams := rpc.ClientInterceptorFunc(func(next rpc.CallFunc) rpc.CallFunc {
		return func(ctx context.Context, call *rpc.OutgoingCall) (*rpc.Response, error) {
			resp, err := next(ctx, call)
			mu.Lock()
			continued = append(continued, err == nil && resp.Continue)
			mu.Unlock()
			return resp, err
		}
	})
	handler := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if c.Selector == "stream" {
			r.Continue(nil)
			r.Send(1)
			return
		}
		r.Return("ok")
	})
	h := start(t, tcp, &rpc.Server{Handler: rpc.Intercept(handler, requireKey)}, rpc.WithInterceptors(seeStreams))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := h.client.Call(ctx, "unary", nil, nil)
	if re := asRPCError(t, err); re.Code != rpc.CodePermissionDenied || !strings.Contains(re.Message, "no key for unary from tcp") {
		t.Errorf("call without the key: %v, want permission_denied naming the call and the peer", err)
	}
	key := rpc.WithMetadata(rpc.Metadata{"key": "open sesame"})
	var s string
	if _, err := h.client.Call(ctx, "unary", nil, &s, key); err != nil || s != "ok" {
		t.Errorf("call with the key: %q, %v", s, err)
	}
	resp, err := h.client.Call(ctx, "stream", nil, nil, key)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := resp.Receive(&n); err != nil || n != 1 {
		t.Errorf("stream: %d, %v", n, err)
	}
	resp.Close()
	if want := []bool{false, false, true}; !slices.Equal(continued, want) {
		t.Errorf("the client interceptor saw Continue %v, want %v", continued, want)
	}
}
