package rpc_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

// unhex decodes the hex of spec/rpc.md, where spaces group the fields.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The examples of spec/rpc.md, byte for byte.
const (
	specCall = `01 00 00 00 10  04 65 63 68 6f  04 63 62 6f 72  00  01  01 61 01 62
	            03 00 00 00 03  62 68 69`
	specReply = `02 00 00 00 01  00
	             03 00 00 00 03  62 68 69`
	specErrorReply = `02 00 00 00 0c  02  05  07 6e 6f 20 73 75 63 68  01 2a`
)

// A client writes exactly the call of the spec's example and decodes the
// reply of the example.
func TestWireMatchesSpec(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		for _, tt := range []struct {
			name, reply string
		}{
			{"value", specReply},
			{"error", specErrorReply},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := make(chan []byte, 1)
				go func() {
					ch, err := ss.Accept(context.Background())
					if err != nil {
						got <- nil
						return
					}
					defer ch.Close()
					want := unhex(t, specCall)
					b := make([]byte, len(want))
					io.ReadFull(ch, b)
					got <- b
					ch.Write(unhex(t, tt.reply))
				}()
				// One channel per call, in order: no channels opened ahead.
				var s string
				_, err := rpc.NewClient(cs, rpc.WithOpenAhead(0)).Call(context.Background(), "echo", "hi", &s, rpc.WithMetadata(rpc.Metadata{"a": "b"}))
				if b := <-got; !bytes.Equal(b, unhex(t, specCall)) {
					t.Fatalf("the client wrote\n%x\nwant\n%x", b, unhex(t, specCall))
				}
				if tt.name == "value" {
					if err != nil || s != "hi" {
						t.Fatalf("reply %q, %v", s, err)
					}
					return
				}
				e := asRPCError(t, err)
				if e.Code != rpc.CodeNotFound || e.Message != "no such" || !bytes.Equal(e.Details, []byte{0x2a}) {
					t.Fatalf("error reply decoded as %+v", e)
				}
			})
		}
	})
}

// A server answers the spec's call with the spec's reply.
func TestWireServerMatchesSpec(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			var s string
			if err := c.Receive(&s); err != nil || c.Selector != "echo" || c.Metadata["a"] != "b" {
				r.Error(errors.New("not the spec's call"))
				return
			}
			r.Return(s)
		})
		ch := rawCall(t, h.cs, unhex(t, specCall))
		got, err := io.ReadAll(ch)
		if err != nil {
			t.Fatal(err)
		}
		if want := unhex(t, specReply); !bytes.Equal(got, want) {
			t.Fatalf("the server replied\n%x\nwant\n%x", got, want)
		}
	})
}

// Malformed input on a call's channel gets an error reply or a closed
// channel, never a panic, and the server goes on serving.
func TestMalformedInput(t *testing.T) {
	goodCall := appendFrame(nil, kindCall, callPayload("swap", "cbor", 0))
	garbage := func(seed uint64) []byte {
		r := rand.New(rand.NewPCG(seed, seed))
		b := make([]byte, 1+r.IntN(300))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		if b[0] == 0 {
			b[0] = 9 // a first byte 0 starts the older framing (legacy_test.go)
		}
		return b
	}
	cases := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"value first", appendFrame(nil, kindValue, []byte{0xf6})},
		{"reply first", appendFrame(nil, kindReply, []byte{0})},
		{"error first", appendFrame(nil, kindError, []byte{2, 0, 0})},
		{"unknown kind", appendFrame(nil, 9, nil)},
		{"truncated frame header", []byte{kindCall, 0, 0}},
		{"truncated payload", appendFrame(nil, kindCall, callPayload("swap", "cbor", 0))[:7]},
		{"header: string overruns", appendFrame(nil, kindCall, []byte{0x7f, 's'})},
		{"header: bad uvarint", appendFrame(nil, kindCall, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},
		{"header: missing fields", appendFrame(nil, kindCall, appendWireString(nil, "swap"))},
		{"header: trailing bytes", appendFrame(nil, kindCall, append(callPayload("swap", "cbor", 0), 0))},
		{"header: 2^62 metadata pairs", appendFrame(nil, kindCall, append(append(appendWireString(appendWireString(nil, "swap"), "cbor"), 0), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40))},
		{"header: timeout out of range", appendFrame(nil, kindCall, append(append(appendWireString(appendWireString(nil, "swap"), "cbor"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0))},
		{"no arguments", goodCall},
		{"call twice", appendFrame(goodCall, kindCall, callPayload("swap", "cbor", 0))},
		{"bad cbor arguments", appendFrame(goodCall, kindValue, []byte{0xff, 0xff})},
	}
	for i := range 20 {
		cases = append(cases, struct {
			name string
			msg  []byte
		}{"garbage " + string(rune('a'+i)), garbage(uint64(i))})
		cases = append(cases, struct {
			name string
			msg  []byte
		}{"call then garbage " + string(rune('a'+i)), append(bytes.Clone(goodCall), garbage(uint64(100+i))...)})
	}
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, swap)
		for _, tt := range cases {
			ch := rawCall(t, h.cs, tt.msg)
			ch.CloseWrite()
			// Whatever comes back must be frames: a reply header first, an
			// error one, and nothing malformed.
			kind, p, err := readFrame(ch)
			switch {
			case errors.Is(err, io.EOF):
				// closed without a reply: allowed
			case err != nil:
				t.Errorf("%s: the server answered with a malformed frame: %v", tt.name, err)
			case kind != kindReply:
				t.Errorf("%s: the server answered with a frame of kind %d", tt.name, kind)
			default:
				if _, werr, err := parseReplyHeader(p); err != nil || werr == nil || werr.code == 0 {
					t.Errorf("%s: reply header %x (%v): want an error", tt.name, p, err)
				}
			}
			ch.Close()
			var q point
			if _, err := h.client.Call(context.Background(), "swap", point{1, 2, "x"}, &q); err != nil || q.X != 2 {
				t.Fatalf("after %s: %+v, %v", tt.name, q, err)
			}
		}
	})
}

// A client talking to a broken server gets ErrMalformed (or, for a
// channel closed without a reply, CodeUnavailable), not io.EOF, a panic
// or a hang.
func TestMalformedReply(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply []byte
	}{
		{"value instead of reply", appendFrame(nil, kindValue, []byte{0xf6})},
		{"unknown flags", appendFrame(nil, kindReply, []byte{0x80})},
		{"truncated error", appendFrame(nil, kindReply, []byte{2, 5})},
		{"reply trailing bytes", appendFrame(nil, kindReply, []byte{0, 0})},
		{"call frame", appendFrame(nil, kindCall, callPayload("x", "cbor", 0))},
		{"ends inside a frame", []byte{kindReply, 0, 0, 0, 9, 0}},
		{"reply without value", appendFrame(nil, kindReply, []byte{0})},
		{"closed without reply", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tc transportCase) {
				cs, ss := tc.pair(t)
				done := make(chan struct{})
				go func() {
					defer close(done)
					ch, err := ss.Accept(context.Background())
					if err != nil {
						return
					}
					readFrame(ch)
					readFrame(ch)
					ch.Write(tt.reply)
					ch.Close()
				}()
				defer func() { <-done }()
				_, err := rpc.NewClient(cs).Call(context.Background(), "x", nil, nil)
				if err == nil {
					t.Fatal("a malformed reply was accepted")
				}
				// An io.EOF would read as the end of a stream.
				if errors.Is(err, io.EOF) {
					t.Fatalf("got %v: io.EOF from Call", err)
				}
				if !errors.Is(err, rpc.ErrMalformed) && !errors.Is(err, rpc.ErrUnavailable) {
					t.Fatalf("got %v, want a malformed-frame or unavailable error", err)
				}
			})
		})
	}
}

// A cancelling client sends the CANCEL frame of the spec's example, then
// closes the channel.
func TestWireCancelMatchesSpec(t *testing.T) {
	want := append(unhex(t, "06 00 00 00 13 01 10"), "context canceled\x00"...)
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		called := make(chan struct{})
		rest := make(chan []byte, 1)
		go func() {
			ch, err := ss.Accept(context.Background())
			if err != nil {
				rest <- nil
				return
			}
			defer ch.Close()
			readFrame(ch)
			readFrame(ch)
			close(called)
			b, _ := io.ReadAll(ch)
			rest <- b
		}()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := rpc.NewClient(cs).Call(ctx, "x", nil, nil)
			errc <- err
		}()
		waitFor(t, called, "the call")
		cancel()
		if err := waitFor(t, errc, "the cancelled call"); !errors.Is(err, context.Canceled) {
			t.Fatalf("client got %v", err)
		}
		if got := waitFor(t, rest, "the channel to close"); !bytes.Equal(got, want) {
			t.Fatalf("after the call the client sent %x, want %x", got, want)
		}
	})
}

// The frames of a bidirectional stream, byte for byte: the client's
// values and END, the server's values and ERROR.
func TestWireStreamFrames(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		cs, ss := tc.pair(t)
		fromClient := make(chan []byte, 1)
		go func() {
			ch, err := ss.Accept(context.Background())
			if err != nil {
				fromClient <- nil
				return
			}
			defer ch.Close()
			readFrame(ch)
			readFrame(ch)
			ch.Write(unhex(t, "02 00 00 00 01 01  03 00 00 00 01 f6")) // continue, null
			// The client's stream: VALUE 1, VALUE 2, END.
			want := len(unhex(t, "03 00 00 00 01 01  03 00 00 00 01 02  05 00 00 00 00"))
			b := make([]byte, want)
			io.ReadFull(ch, b)
			fromClient <- b
			// The server's stream: VALUE 7, then ERROR aborted "stop".
			ch.Write(unhex(t, "03 00 00 00 01 07  04 00 00 00 07 0a 04 73 74 6f 70 00"))
		}()
		resp, err := rpc.NewClient(cs).Call(context.Background(), "bidi", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if !resp.Continue {
			t.Fatal("Continue not set")
		}
		resp.Send(1)
		resp.Send(2)
		resp.CloseSend()
		if got, want := waitFor(t, fromClient, "the client's stream"), unhex(t, "03 00 00 00 01 01  03 00 00 00 01 02  05 00 00 00 00"); !bytes.Equal(got, want) {
			t.Fatalf("the client's stream was %x, want %x", got, want)
		}
		var v int
		if err := resp.Receive(&v); err != nil || v != 7 {
			t.Fatalf("value %d, %v", v, err)
		}
		err = resp.Receive(&v)
		if e := asRPCError(t, err); e.Code != rpc.CodeAborted || e.Message != "stop" {
			t.Fatalf("end of stream %+v", e)
		}
	})
}
