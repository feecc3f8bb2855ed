package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// xorCodec is a test codec: byte strings XORed with a key, so its payloads
// are unreadable to any other codec.
type xorCodec struct {
	name string
	key  byte
}

func (c xorCodec) Name() string { return c.name }

func (c xorCodec) Append(b []byte, v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok && v != nil {
		return b, errors.New("xor codec: only strings")
	}
	for i := range len(s) {
		b = append(b, s[i]^c.key)
	}
	return b, nil
}

func (c xorCodec) Unmarshal(data []byte, v any) error {
	switch p := v.(type) {
	case nil:
		return nil
	case *string:
		b := bytes.Clone(data)
		for i := range b {
			b[i] ^= c.key
		}
		*p = string(b)
		return nil
	}
	return errors.New("xor codec: only *string")
}

// A codec the server does not know is refused with CodeUnimplemented,
// naming it, before the handler runs.
func TestUnknownCodec(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		ran := make(chan struct{}, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) { ran <- struct{}{} }, rpc.WithCodec(xorCodec{"x-test", 0x5a}))
		_, err := h.client.Call(context.Background(), "x", "hello", nil)
		if !errors.Is(err, rpc.ErrUnimplemented) {
			t.Fatalf("got %v, want unimplemented", err)
		}
		if e := asRPCError(t, err); !strings.Contains(e.Message, `"x-test"`) {
			t.Fatalf("message %q does not name the codec", e.Message)
		}
		select {
		case <-ran:
			t.Fatal("the handler ran for a call in an unknown codec")
		default:
		}
	})
}

// A registered codec is used for both directions.
func TestRegisteredCodec(t *testing.T) {
	codec := xorCodec{"x-test-registered", 0x33}
	rpc.RegisterCodec(codec)
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			var s string
			if err := c.Receive(&s); err != nil {
				r.Error(err)
				return
			}
			r.Return(strings.ToUpper(s))
		}, rpc.WithCodec(codec))
		var got string
		if _, err := h.client.Call(context.Background(), "up", "hello", &got); err != nil || got != "HELLO" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

// Arguments that do not decode into the handler's type give the client
// CodeInvalidArgument, never a half-decoded value.
func TestUndecodableArguments(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		decoded := make(chan int, 10)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			var n int
			if err := c.Receive(&n); err != nil {
				r.Error(err)
				return
			}
			decoded <- n
			r.Return(n)
		}, rpc.WithCodec(rpc.JSON))
		for _, args := range []any{"not a number", map[string]int{"a": 1}, 1.5, []int{1}} {
			_, err := h.client.Call(context.Background(), "int", args, nil)
			if !errors.Is(err, rpc.ErrInvalidArgument) {
				t.Errorf("args %v: got %v, want invalid argument", args, err)
			}
		}
		// JSON that is not JSON at all, written on a raw channel.
		for _, payload := range []string{"{not json", "", "12 34", "\xff\xfe"} {
			msg := appendFrame(nil, kindCall, callPayload("int", "json", 0))
			msg = appendFrame(msg, kindValue, []byte(payload))
			ch := rawCall(t, h.cs, msg)
			kind, p, err := readFrame(ch)
			if err != nil || kind != kindReply {
				t.Fatalf("payload %q: reply kind %d, %v", payload, kind, err)
			}
			_, werr, err := parseReplyHeader(p)
			if err != nil || werr == nil || rpc.Code(werr.code) != rpc.CodeInvalidArgument {
				t.Errorf("payload %q: reply %+v, %v; want invalid argument", payload, werr, err)
			}
		}
		select {
		case n := <-decoded:
			t.Fatalf("the handler decoded %d from bad arguments", n)
		default:
		}
		var got int
		if _, err := h.client.Call(context.Background(), "int", 42, &got); err != nil || got != 42 {
			t.Fatalf("a good call after bad ones: %d, %v", got, err)
		}
	})
}

// A reply the client cannot decode is an invalid-argument error on the
// client, and the call's value is left alone.
func TestUndecodableReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) { r.Return("text") })
		got := 7
		_, err := h.client.Call(context.Background(), "x", nil, &got)
		if !errors.Is(err, rpc.ErrInvalidArgument) {
			t.Fatalf("got %v, want invalid argument", err)
		}
	})
}

// Values the codec cannot encode fail on the sending side with
// CodeInvalidArgument, and nothing is sent for them.
func TestUnencodableArguments(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) { r.Return(nil) })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := h.client.Call(ctx, "x", make(chan int), nil)
		if !errors.Is(err, rpc.ErrInvalidArgument) {
			t.Fatalf("got %v, want invalid argument", err)
		}
	})
}

// A reply the server cannot encode becomes an internal error.
func TestUnencodableReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) { r.Return(make(chan int)) })
		if _, err := h.client.Call(context.Background(), "x", nil, nil); !errors.Is(err, rpc.ErrInternal) {
			t.Fatalf("got %v, want internal", err)
		}
	})
}
