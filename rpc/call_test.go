package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

type point struct {
	X, Y  int
	Label string
}

// swap answers a point with its coordinates swapped and its label in
// upper case: a reply that differs from the arguments in every field.
func swap(r rpc.Responder, c *rpc.Call) {
	var p point
	if err := c.Receive(&p); err != nil {
		r.Error(err)
		return
	}
	r.Return(point{X: p.Y, Y: p.X, Label: strings.ToUpper(p.Label)})
}

func TestUnaryCodecs(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		for _, codec := range []rpc.Codec{rpc.CBOR, rpc.JSON} {
			t.Run(codec.Name(), func(t *testing.T) {
				h := startFunc(t, tc, swap, rpc.WithCodec(codec))
				var got point
				resp, err := h.client.Call(context.Background(), "swap", point{1, 2, "abc"}, &got)
				if err != nil {
					t.Fatal(err)
				}
				if want := (point{2, 1, "ABC"}); got != want {
					t.Fatalf("got %+v, want %+v", got, want)
				}
				if resp.Continue {
					t.Fatal("a unary reply has Continue set")
				}
				if err := resp.Close(); err != nil {
					t.Fatalf("Close of a finished unary call: %v", err)
				}
			})
		}
	})
}

// A handler that returns without answering answers Return(nil).
func TestHandlerReturnsWithoutAnswer(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(rpc.Responder, *rpc.Call) {})
		got := "unchanged"
		if _, err := h.client.Call(context.Background(), "x", nil, &got); err != nil {
			t.Fatal(err)
		}
		if got != "unchanged" {
			t.Fatalf("a nil reply decoded into %q", got)
		}
	})
}

func TestAnsweringTwiceFails(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		second := make(chan [2]error, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			r.Return(1)
			second <- [2]error{r.Return(2), r.Error(errors.New("late"))}
		})
		var got int
		if _, err := h.client.Call(context.Background(), "x", nil, &got); err != nil || got != 1 {
			t.Fatalf("got %d, %v; want 1", got, err)
		}
		for _, err := range waitFor(t, second, "the handler") {
			if err == nil {
				t.Fatal("a second answer to a call succeeded")
			}
		}
	})
}

func TestMetadataReachesHandler(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) { r.Return(map[string]string(c.Metadata)) })
		md := rpc.Metadata{"trace-id": "4bf92f35", "user": "ada", "empty": "", "ünïcode": "✓"}
		var got map[string]string
		if _, err := h.client.Call(context.Background(), "md", nil, &got, rpc.WithMetadata(md)); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, md) {
			t.Fatalf("handler saw metadata %v, want %v", got, md)
		}
		got = nil
		if _, err := h.client.Call(context.Background(), "md", nil, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("a call without metadata arrived with %v", got)
		}
	})
}

func TestSelectorUnderPrefixPattern(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		m := rpc.NewRespondMux()
		selectors := func(r rpc.Responder, c *rpc.Call) { r.Return([2]string{c.Selector, c.FullSelector}) }
		m.HandleFunc("chat:", selectors)
		m.HandleFunc("exact", selectors)
		h := start(t, tc, &rpc.Server{Handler: m})
		for _, tt := range []struct{ call, sel string }{
			{"chat:send", "send"},
			{"chat:", ""},
			{"chat:room.general", "room.general"},
			{"exact", "exact"},
		} {
			var got [2]string
			if _, err := h.client.Call(context.Background(), tt.call, nil, &got); err != nil {
				t.Fatal(err)
			}
			if got != [2]string{tt.sel, tt.call} {
				t.Errorf("call %q: Selector %q, FullSelector %q; want %q, %q", tt.call, got[0], got[1], tt.sel, tt.call)
			}
		}
	})
}

// A handler calls back the client over the same session, while its own
// call is in flight.
func TestCallback(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			var name string
			if err := c.Receive(&name); err != nil {
				r.Error(err)
				return
			}
			var greeting string
			if _, err := c.Caller.Call(c.Context(), "client.greet", name, &greeting); err != nil {
				r.Error(fmt.Errorf("callback: %w", err))
				return
			}
			if c.Session() != c.Caller.Session() {
				r.Error(errors.New("Call.Session is not the Caller's session"))
				return
			}
			r.Return("server relays: " + greeting)
		})
		client := rpc.NewRespondMux()
		client.HandleFunc("client.greet", func(r rpc.Responder, c *rpc.Call) {
			var name string
			c.Receive(&name)
			r.Return("hello, " + name)
		})
		h.serveBoth(t, client)
		var got string
		if _, err := h.client.Call(context.Background(), "relay", "ada", &got); err != nil {
			t.Fatal(err)
		}
		if want := "server relays: hello, ada"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// Many goroutines call over one session at once; every reply must match
// its own call. The server does not bound the channels waiting for their
// call (MaxWaitingChannels, tested in budget_test.go): that budget counts
// a channel from its accept until the server has read its request, so
// with 200 calls at once on a starved machine more than 64 were counted
// stale (over a second) although each request had been sent, and calls
// refused three times in a row failed with unavailable.
func TestConcurrentCalls(t *testing.T) {
	const goroutines, calls = 200, 20
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := start(t, tc, &rpc.Server{MaxWaitingChannels: -1, Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			var n [2]int
			if err := c.Receive(&n); err != nil {
				r.Error(err)
				return
			}
			r.Return(n[0]*1000 + n[1])
		})})
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				for i := range calls {
					var got int
					if _, err := h.client.Call(context.Background(), "mul", [2]int{g, i}, &got); err != nil {
						errs <- err
						return
					}
					if got != g*1000+i {
						errs <- fmt.Errorf("call (%d, %d) got %d", g, i, got)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
