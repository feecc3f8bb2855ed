package rpc_test

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

// Arguments over the server's MaxFrameSize are refused with
// CodeResourceExhausted.
func TestOversizedArguments(t *testing.T) {
	for _, tt := range []struct {
		name     string
		maxFrame int // the server's, 0 for the default
		size     int
	}{
		{"small limit", 1 << 10, 4 << 10},
		{"default limit", 0, rpc.DefaultMaxFrameSize + 1<<20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tc transportCase) {
				srv := &rpc.Server{Handler: rpc.HandlerFunc(swap), MaxFrameSize: tt.maxFrame}
				h := start(t, tc, srv)
				_, err := h.client.Call(context.Background(), "swap", point{Label: strings.Repeat("x", tt.size)}, nil)
				if !errors.Is(err, rpc.ErrResourceExhausted) {
					t.Fatalf("args of %d bytes: got %v, want resource exhausted", tt.size, err)
				}
				var p point
				if _, err := h.client.Call(context.Background(), "swap", point{1, 2, "ok"}, &p); err != nil || p.X != 2 {
					t.Fatalf("a small call after: %+v, %v", p, err)
				}
			})
		})
	}
}

// A reply over the client's WithMaxFrameSize is refused by the client.
func TestOversizedReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			var n int
			c.Receive(&n)
			r.Return(strings.Repeat("y", n))
		}, rpc.WithMaxFrameSize(1<<10))
		var s string
		if _, err := h.client.Call(context.Background(), "big", 100, &s); err != nil || len(s) != 100 {
			t.Fatalf("a small reply: %d bytes, %v", len(s), err)
		}
		if _, err := h.client.Call(context.Background(), "big", 64<<10, &s); !errors.Is(err, rpc.ErrResourceExhausted) {
			t.Fatalf("a reply of 64 KiB with a 1 KiB limit: %v, want resource exhausted", err)
		}
	})
}

// totalAlloc returns the bytes allocated by the process so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// A frame header declaring 1 GiB is refused from the header alone: the
// server answers CodeResourceExhausted without allocating anything near
// the declared size.
func TestHugeDeclaredFrame(t *testing.T) {
	const declared = 1 << 30
	hugeHeader := binary.BigEndian.AppendUint32(nil, declared)
	for _, tt := range []struct {
		name string
		msg  []byte
	}{
		{"call header", append([]byte{kindCall}, hugeHeader...)},
		{"arguments", append(appendFrame(nil, kindCall, callPayload("swap", "cbor", 0)), append([]byte{kindValue}, hugeHeader...)...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tc transportCase) {
				h := startFunc(t, tc, swap)
				before := totalAlloc()
				ch := rawCall(t, h.cs, tt.msg)
				kind, p, err := readFrame(ch)
				allocated := totalAlloc() - before
				if err != nil || kind != kindReply {
					t.Fatalf("reply kind %d, %v", kind, err)
				}
				_, werr, err := parseReplyHeader(p)
				if err != nil || werr == nil || rpc.Code(werr.code) != rpc.CodeResourceExhausted {
					t.Fatalf("reply %+v, %v; want resource exhausted", werr, err)
				}
				if allocated > 32<<20 {
					t.Fatalf("%d bytes allocated while refusing a frame that declares %d", allocated, declared)
				}
			})
		})
	}
}

// The client, too, refuses a frame declaring 1 GiB from its header.
func TestHugeDeclaredReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			ch, err := ss.Accept(context.Background())
			if err != nil {
				return
			}
			defer ch.Close()
			readFrame(ch) // the call
			readFrame(ch) // the arguments
			ch.Write(append([]byte{kindReply}, binary.BigEndian.AppendUint32(nil, 1<<30)...))
			ch.Read(make([]byte, 1)) // until the client closes
		}()
		defer func() { <-done }()
		before := totalAlloc()
		_, err := rpc.NewClient(cs).Call(context.Background(), "x", nil, nil)
		allocated := totalAlloc() - before
		if !errors.Is(err, rpc.ErrResourceExhausted) {
			t.Fatalf("got %v, want resource exhausted", err)
		}
		if allocated > 32<<20 {
			t.Fatalf("%d bytes allocated while refusing a 1 GiB reply", allocated)
		}
	})
}
