package rpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// The older framing, written out by hand from spec/rpc.md section 12:
// every value is a uint32 big-endian length and the codec's bytes.

func appendLegacy(b []byte, payload string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// readLegacy reads one value of the older framing.
func readLegacy(r io.Reader) (string, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > maxTestFrame {
		return "", fmt.Errorf("value of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return "", fmt.Errorf("value: %w", err)
	}
	return string(p), nil
}

func mustReadLegacy(t *testing.T, r io.Reader, want string) {
	t.Helper()
	got, err := readLegacy(r)
	if err != nil {
		t.Fatalf("reading %s: %v", want, err)
	}
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// expectEnd checks that the server closed the channel after its last value.
func expectEnd(t *testing.T, ch io.Reader) {
	t.Helper()
	if b, err := io.ReadAll(ch); err != nil || len(b) != 0 {
		t.Fatalf("after the reply: %q, %v; want the end of the channel", b, err)
	}
}

// legacyMux serves echo (unary), count (a server stream of its argument's
// numbers), sum (a client stream, answered when it ends) and fail.
func legacyMux() *rpc.RespondMux {
	m := rpc.NewRespondMux()
	m.HandleFunc("echo", func(r rpc.Responder, c *rpc.Call) {
		var v any
		if err := c.Receive(&v); err != nil {
			r.Error(err)
			return
		}
		r.Return(v)
	})
	m.HandleFunc("count", func(r rpc.Responder, c *rpc.Call) {
		var n int
		if err := c.Receive(&n); err != nil {
			r.Error(err)
			return
		}
		r.Continue(n)
		for i := range n {
			r.Send(i)
		}
	})
	m.HandleFunc("sum", func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		r.Continue(nil)
		sum := 0
		for {
			var n int
			err := c.Receive(&n)
			if err == io.EOF {
				r.Send(sum)
				return
			}
			if err != nil {
				return
			}
			sum += n
		}
	})
	m.HandleFunc("fail", func(r rpc.Responder, c *rpc.Call) {
		r.Error(rpc.Errorf(rpc.CodeFailedPrecondition, "not now"))
	})
	return m
}

func TestLegacyServerUnary(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := start(t, tc, &rpc.Server{Handler: legacyMux()})
		ch := rawCall(t, h.cs, appendLegacy(appendLegacy(nil, `{"Selector":"echo"}`), `"hi"`))
		mustReadLegacy(t, ch, `{"Error":null,"Continue":false}`)
		mustReadLegacy(t, ch, `"hi"`)
		expectEnd(t, ch)
	})
}

func TestLegacyServerErrors(t *testing.T) {
	h := start(t, transports[0], &rpc.Server{Handler: legacyMux(), MaxFrameSize: 1 << 10})
	for _, tc := range []struct {
		name, want string
		frames     []byte
	}{
		{"handler error", `{"Error":"failed_precondition: not now","Continue":false}`,
			appendLegacy(appendLegacy(nil, `{"Selector":"fail"}`), `null`)},
		{"unknown selector", `{"Error":"not_found: no handler for \"nope\"","Continue":false}`,
			appendLegacy(appendLegacy(nil, `{"Selector":"nope"}`), `null`)},
		{"bad argument", `{"Error":"invalid_argument: decode json value into *int: json: cannot unmarshal string into Go value of type int","Continue":false}`,
			appendLegacy(appendLegacy(nil, `{"Selector":"count"}`), `"x"`)},
		{"malformed header", `{"Error":"invalid_argument: rpc: malformed frame: call header of the older framing: invalid character 'x' looking for beginning of object key string","Continue":false}`,
			appendLegacy(nil, `{x`)},
		{"no arguments", `{"Error":"invalid_argument: rpc: malformed frame: the call ended before its arguments: unexpected EOF","Continue":false}`,
			appendLegacy(nil, `{"Selector":"echo"}`)},
		{"over the frame limit", `{"Error":"resource_exhausted: frame of 2048 bytes exceeds the limit of 1024","Continue":false}`,
			binary.BigEndian.AppendUint32(appendLegacy(nil, `{"Selector":"echo"}`), 2048)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := rawCall(t, h.cs, tc.frames)
			if tc.name == "no arguments" {
				ch.CloseWrite()
			}
			mustReadLegacy(t, ch, tc.want)
			mustReadLegacy(t, ch, `null`)
			expectEnd(t, ch)
		})
	}
}

func TestLegacyServerStreams(t *testing.T) {
	h := start(t, transports[0], &rpc.Server{Handler: legacyMux()})
	ch := rawCall(t, h.cs, appendLegacy(appendLegacy(nil, `{"Selector":"count"}`), `3`))
	mustReadLegacy(t, ch, `{"Error":null,"Continue":true}`)
	for _, want := range []string{`3`, `0`, `1`, `2`} {
		mustReadLegacy(t, ch, want)
	}
	expectEnd(t, ch)

	// The client's stream ends with its half-close: the older framing has
	// no END.
	ch = rawCall(t, h.cs, appendLegacy(appendLegacy(nil, `{"Selector":"sum"}`), `null`))
	mustReadLegacy(t, ch, `{"Error":null,"Continue":true}`)
	mustReadLegacy(t, ch, `null`)
	if _, err := ch.Write(appendLegacy(appendLegacy(nil, `20`), `22`)); err != nil {
		t.Fatal(err)
	}
	ch.CloseWrite()
	mustReadLegacy(t, ch, `42`)
	expectEnd(t, ch)
}

func TestLegacyServerCBOR(t *testing.T) {
	h := start(t, transports[0], &rpc.Server{Handler: legacyMux()})
	// a1 68 "Selector" 64 "echo": a CBOR map, so the call is CBOR.
	header := "\xa1\x68Selector\x64echo"
	ch := rawCall(t, h.cs, appendLegacy(appendLegacy(nil, header), "\x62hi"))
	got, err := readLegacy(ch)
	if err != nil {
		t.Fatal(err)
	}
	var rh struct {
		Error    *string
		Continue bool
	}
	if err := cbor.Unmarshal([]byte(got), &rh); err != nil || rh.Error != nil || rh.Continue {
		t.Fatalf("reply header %x: %+v, %v", got, rh, err)
	}
	mustReadLegacy(t, ch, "\x62hi")
	expectEnd(t, ch)
}

// fakeLegacyServer answers one call on sess as an older server would,
// from the frames written by hand: it checks the call's two values, then
// writes reply.
func fakeLegacyServer(t *testing.T, sess mux.Session, wantHeader, wantArgs string, reply []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			ch, err := sess.Accept(context.Background())
			if err != nil {
				return err
			}
			defer ch.Close()
			for _, want := range []string{wantHeader, wantArgs} {
				got, err := readLegacy(ch)
				if err != nil {
					return err
				}
				if got != want {
					return fmt.Errorf("got %s, want %s", got, want)
				}
			}
			_, err = ch.Write(reply)
			return err
		}()
	}()
	return done
}

func TestLegacyClientAgainstOlderServer(t *testing.T) {
	t.Run("reply", func(t *testing.T) {
		cs, ss := pipePair(t)
		cl := rpc.NewClient(cs, rpc.WithLegacyFraming(), rpc.WithOpenAhead(0))
		done := fakeLegacyServer(t, ss, `{"Selector":"echo"}`, `"hi"`,
			appendLegacy(appendLegacy(nil, `{"Error":null,"Continue":false}`), `"ho"`))
		var got string
		if _, err := cl.Call(context.Background(), "echo", "hi", &got); err != nil || got != "ho" {
			t.Fatalf("Call: %q, %v", got, err)
		}
		if err := waitFor(t, done, "the server"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("error with a code", func(t *testing.T) {
		cs, ss := pipePair(t)
		cl := rpc.NewClient(cs, rpc.WithLegacyFraming(), rpc.WithOpenAhead(0))
		done := fakeLegacyServer(t, ss, `{"Selector":"x"}`, `null`,
			appendLegacy(appendLegacy(nil, `{"Error":"not_found: no x","Continue":false}`), `null`))
		_, err := cl.Call(context.Background(), "x", nil, nil)
		if e := asRPCError(t, err); e.Code != rpc.CodeNotFound || e.Message != "no x" {
			t.Fatalf("got %v, want not_found: no x", err)
		}
		if err := waitFor(t, done, "the server"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("error without a code", func(t *testing.T) {
		cs, ss := pipePair(t)
		cl := rpc.NewClient(cs, rpc.WithLegacyFraming(), rpc.WithOpenAhead(0))
		// Older servers send an error's text alone, and may omit the value.
		done := fakeLegacyServer(t, ss, `{"Selector":"x"}`, `null`,
			appendLegacy(nil, `{"Error":"handler does not exist for this selector: x","Continue":false}`))
		_, err := cl.Call(context.Background(), "x", nil, nil)
		if e := asRPCError(t, err); e.Code != rpc.CodeUnknown || e.Message != "handler does not exist for this selector: x" {
			t.Fatalf("got %v", err)
		}
		if err := waitFor(t, done, "the server"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("malformed reply header", func(t *testing.T) {
		cs, ss := pipePair(t)
		cl := rpc.NewClient(cs, rpc.WithLegacyFraming(), rpc.WithOpenAhead(0))
		done := fakeLegacyServer(t, ss, `{"Selector":"x"}`, `null`, appendLegacy(nil, `[1]`))
		_, err := cl.Call(context.Background(), "x", nil, nil)
		if !errors.Is(err, rpc.ErrMalformed) {
			t.Fatalf("got %v, want ErrMalformed", err)
		}
		waitFor(t, done, "the server")
	})
	t.Run("value over the frame limit", func(t *testing.T) {
		cs, ss := pipePair(t)
		cl := rpc.NewClient(cs, rpc.WithLegacyFraming(), rpc.WithOpenAhead(0), rpc.WithMaxFrameSize(16))
		reply := appendLegacy(nil, `{"Error":null,"Continue":false}`)
		done := fakeLegacyServer(t, ss, `{"Selector":"x"}`, `null`, reply)
		_, err := cl.Call(context.Background(), "x", nil, nil)
		if e := asRPCError(t, err); e.Code != rpc.CodeResourceExhausted {
			t.Fatalf("got %v, want resource_exhausted", err)
		}
		waitFor(t, done, "the server")
	})
}

// A client with the option calls a qtalk server, which answers in kind:
// unary, both streams, errors keep their code, and Send is refused.
func TestLegacyClientAndServer(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		for _, opts := range [][]rpc.ClientOption{
			{rpc.WithLegacyFraming()},
			{rpc.WithLegacyFraming(), rpc.WithCodec(rpc.CBOR)},
		} {
			h := start(t, tc, &rpc.Server{Handler: legacyMux()}, opts...)
			name := h.client.Codec().Name()
			ctx := context.Background()
			var s string
			if _, err := h.client.Call(ctx, "echo", "hi", &s); err != nil || s != "hi" {
				t.Fatalf("%s echo: %q, %v", name, s, err)
			}
			_, err := h.client.Call(ctx, "fail", nil, nil)
			if e := asRPCError(t, err); e.Code != rpc.CodeFailedPrecondition || e.Message != "not now" {
				t.Fatalf("%s fail: %v", name, err)
			}

			var n int
			resp, err := h.client.Call(ctx, "count", 3, &n)
			if err != nil || !resp.Continue || n != 3 {
				t.Fatalf("%s count: %v, %d, %v", name, resp, n, err)
			}
			var got []int
			for {
				if err := resp.Receive(&n); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s count: %v", name, err)
				}
				got = append(got, n)
			}
			resp.Close()
			if fmt.Sprint(got) != "[0 1 2]" {
				t.Fatalf("%s count streamed %v", name, got)
			}

			resp, err = h.client.Call(ctx, "sum", nil, nil)
			if err != nil {
				t.Fatalf("%s sum: %v", name, err)
			}
			for _, v := range []int{20, 22} {
				if err := resp.Send(v); err != nil {
					t.Fatal(err)
				}
			}
			resp.CloseSend()
			if err := resp.Receive(&n); err != nil || n != 42 {
				t.Fatalf("%s sum: %d, %v", name, n, err)
			}
			resp.Close()

			if err := h.client.Send(ctx, "echo", "x"); rpc.CodeOf(err) != rpc.CodeUnimplemented {
				t.Fatalf("%s Send: %v, want unimplemented", name, err)
			}
		}
	})
}

// The bytes a legacy client writes are those of the description.
func TestLegacyClientFrames(t *testing.T) {
	cs, ss := pipePair(t)
	cl := rpc.NewClient(cs, rpc.WithLegacyFraming(), rpc.WithOpenAhead(0))
	got := make(chan []byte, 1)
	go func() {
		ch, err := ss.Accept(context.Background())
		if err != nil {
			got <- nil
			return
		}
		b := make([]byte, 64)
		n, _ := io.ReadAtLeast(ch, b, 4+19+4+4)
		got <- b[:n]
		ch.Write(appendLegacy(appendLegacy(nil, `{"Error":null,"Continue":false}`), `null`))
		ch.Close()
	}()
	if _, err := cl.Call(context.Background(), "echo", "hi", nil); err != nil {
		t.Fatal(err)
	}
	want := appendLegacy(appendLegacy(nil, `{"Selector":"echo"}`), `"hi"`)
	if b := waitFor(t, got, "the call"); !bytes.Equal(b, want) {
		t.Fatalf("client wrote %q, want %q", b, want)
	}
}
