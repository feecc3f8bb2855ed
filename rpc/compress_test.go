package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// Compression of values: spec/rpc.md, section 13.

const kindCompressed = 8

// readCounter counts the bytes read from a connection.
type readCounter struct {
	net.Conn
	n *atomic.Int64
}

func (c readCounter) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// wire counts the bytes of a connection between a client and a server.
// Each way is counted where it is read: the server has read a call's
// arguments before it answers, and the client the reply before Call
// returns, so a call's bytes are all counted by the time it returns. (A
// count of the bytes written is not: a Write into the buffered pipe may
// be read, and the call return, before the writer counts it.)
type wire struct{ up, down atomic.Int64 } // client to server, server to client

// take returns the counts since the last take.
func (w *wire) take() (up, down int64) { return w.up.Swap(0), w.down.Swap(0) }

// countedPair is pipePair with the bytes of the pipe counted.
func countedPair(t testing.TB) (cs, ss mux.Session, w *wire) {
	t.Helper()
	w = new(wire)
	c1, c2 := pipe.New()
	cs, err := qmux.New(readCounter{c1, &w.down}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err = qmux.New(readCounter{c2, &w.up}, nil)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, cs, ss)
	return cs, ss, w
}

// compressible returns n bytes that zstd shrinks at least tenfold, and
// that differ from call to call.
func compressible(n int) []byte {
	word := []byte("qtalk compresses values over its threshold ")
	word[0] = byte('a' + rand.IntN(26))
	return bytes.Repeat(word, n/len(word)+1)[:n]
}

// echoServer answers "stream" with a stream of the values the client
// streams, and any other selector with its argument.
func echoServer(srv *rpc.Server) *rpc.Server {
	srv.Handler = rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if c.Selector == "stream" {
			c.Receive(nil)
			r.Continue(nil)
			for {
				var b []byte
				if c.Receive(&b) != nil {
					return
				}
				r.Send(b)
			}
		}
		var b []byte
		if err := c.Receive(&b); err != nil {
			r.Error(err)
			return
		}
		if _, ok := c.Metadata["qtalk-compress"]; ok {
			r.Error(rpc.Errorf(rpc.CodeInternal, "the handler sees the reserved metadata key"))
			return
		}
		r.Return(b)
	})
	return srv
}

// echo calls the echo server with b and checks the reply; it returns the
// bytes that crossed each way.
func (w *wire) echo(t *testing.T, cl *rpc.Client, b []byte, opts ...rpc.CallOption) (up, down int64) {
	t.Helper()
	w.take()
	var got []byte
	if _, err := cl.Call(context.Background(), "echo", b, &got, opts...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Fatalf("echo of %d bytes came back as %d different bytes", len(b), len(got))
	}
	return w.take()
}

func TestCompressionNegotiated(t *testing.T) {
	const size = 1 << 20
	small := func(n int64) bool { return n < size/10 }
	full := func(n int64) bool { return n >= size }

	t.Run("client and server take it", func(t *testing.T) {
		cs, ss, w := countedPair(t)
		start(t, transportCase{pair: func(testing.TB) (mux.Session, mux.Session) { return cs, ss }}, echoServer(&rpc.Server{}))
		cl := rpc.NewClient(cs, rpc.WithCompression(0))
		// The first call's arguments go as they are: the client does not
		// know yet whether the server takes compressed values.
		if up, down := w.echo(t, cl, compressible(size)); !full(up) || !small(down) {
			t.Errorf("first call: %d bytes up, %d down; want the arguments whole and the reply compressed", up, down)
		}
		// Its reply said the server does: from now on both ways compress.
		if up, down := w.echo(t, cl, compressible(size)); !small(up) || !small(down) {
			t.Errorf("second call: %d bytes up, %d down; want both compressed", up, down)
		}
		// Below the threshold, incompressible, or off for the call: as is.
		if up, down := w.echo(t, cl, compressible(rpc.DefaultCompressMin-100)); up < rpc.DefaultCompressMin-100 || down < rpc.DefaultCompressMin-100 {
			t.Errorf("a value under the threshold: %d bytes up, %d down; want it whole", up, down)
		}
		random := make([]byte, 256<<10)
		for i := range random {
			random[i] = byte(rand.Uint32())
		}
		if up, down := w.echo(t, cl, random); up < int64(len(random)) || down < int64(len(random)) {
			t.Errorf("random bytes: %d bytes up, %d down; want them whole", up, down)
		}
		if up, down := w.echo(t, cl, compressible(size), rpc.WithCallCompression(false)); !full(up) || !full(down) {
			t.Errorf("WithCallCompression(false): %d bytes up, %d down; want both whole", up, down)
		}
	})

	t.Run("per call, on a client that does not compress", func(t *testing.T) {
		cs, ss, w := countedPair(t)
		start(t, transportCase{pair: func(testing.TB) (mux.Session, mux.Session) { return cs, ss }}, echoServer(&rpc.Server{}))
		cl := rpc.NewClient(cs)
		if up, down := w.echo(t, cl, compressible(size)); !full(up) || !full(down) {
			t.Errorf("without compression: %d bytes up, %d down; want both whole", up, down)
		}
		w.echo(t, cl, compressible(size), rpc.WithCallCompression(true))
		if up, down := w.echo(t, cl, compressible(size), rpc.WithCallCompression(true)); !small(up) || !small(down) {
			t.Errorf("WithCallCompression(true): %d bytes up, %d down; want both compressed", up, down)
		}
	})

	t.Run("a server that does not take it", func(t *testing.T) {
		cs, ss, w := countedPair(t)
		start(t, transportCase{pair: func(testing.TB) (mux.Session, mux.Session) { return cs, ss }}, echoServer(&rpc.Server{CompressMin: -1}))
		cl := rpc.NewClient(cs, rpc.WithCompression(0))
		for range 2 {
			if up, down := w.echo(t, cl, compressible(size)); !full(up) || !full(down) {
				t.Errorf("%d bytes up, %d down; want both whole", up, down)
			}
		}
	})

	t.Run("streams and one-way messages", func(t *testing.T) {
		cs, ss, w := countedPair(t)
		got := make(chan []byte, 1)
		m := rpc.NewRespondMux()
		m.HandleFunc("stream", func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			r.Continue(nil)
			for {
				var b []byte
				if c.Receive(&b) != nil {
					return
				}
				r.Send(b)
			}
		})
		m.HandleFunc("sink", func(r rpc.Responder, c *rpc.Call) {
			var b []byte
			c.Receive(&b)
			got <- b
		})
		start(t, transportCase{pair: func(testing.TB) (mux.Session, mux.Session) { return cs, ss }}, &rpc.Server{Handler: m})
		cl := rpc.NewClient(cs, rpc.WithCompression(0))
		ctx := context.Background()
		resp, err := cl.Call(ctx, "stream", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		for range 3 {
			w.take()
			b := compressible(size)
			if err := resp.Send(b); err != nil {
				t.Fatal(err)
			}
			var echo []byte
			if err := resp.Receive(&echo); err != nil || !bytes.Equal(echo, b) {
				t.Fatalf("streamed value: %d bytes back, %v", len(echo), err)
			}
			if up, down := w.take(); !small(up) || !small(down) {
				t.Errorf("a streamed value: %d bytes up, %d down; want both compressed", up, down)
			}
		}
		b := compressible(size)
		if err := cl.Send(ctx, "sink", b); err != nil {
			t.Fatal(err)
		}
		if m := waitFor(t, got, "the message"); !bytes.Equal(m, b) {
			t.Errorf("the message came as %d different bytes", len(m))
		}
		if up, _ := w.take(); !small(up) {
			t.Errorf("a one-way message: %d bytes up; want it compressed", up)
		}
	})
}

// Through a gateway (Forward), the client's values compress to the
// gateway, and the upstream's values reach the client compressed when the
// client takes them; a gateway that does not take them says so for
// itself, whatever the upstream says.
func TestCompressionForwarded(t *testing.T) {
	const size = 1 << 20
	for _, gatewayTakes := range []bool{true, false} {
		t.Run(map[bool]string{true: "gateway takes it", false: "gateway does not"}[gatewayTakes], func(t *testing.T) {
			upCS, upSS := pipePair(t)
			start(t, transportCase{pair: func(testing.TB) (mux.Session, mux.Session) { return upCS, upSS }}, echoServer(&rpc.Server{}))
			upstream := rpc.NewClient(upCS)
			gw := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
				if err := upstream.Forward(c.Context(), r, c, c.Selector); err != nil && !errors.Is(err, rpc.ErrAnswered) {
					r.Error(err)
				}
			})}
			if !gatewayTakes {
				gw.CompressMin = -1
			}
			cs, ss, w := countedPair(t)
			start(t, transportCase{pair: func(testing.TB) (mux.Session, mux.Session) { return cs, ss }}, gw)
			cl := rpc.NewClient(cs, rpc.WithCompression(0))
			for i := range 2 {
				up, down := w.echo(t, cl, compressible(size))
				if down >= size/10 {
					t.Errorf("call %d: %d bytes down; want the upstream's reply compressed", i, down)
				}
				if wantSmall := gatewayTakes && i > 0; (up < size/10) != wantSmall {
					t.Errorf("call %d: %d bytes up; want compressed %v", i, up, wantSmall)
				}
			}
			// A stream: the client's values cross the gateway as they
			// are, compressed when the reply (the upstream's, passed on)
			// said so, which a gateway that does not take them clears.
			resp, err := cl.Call(context.Background(), "stream", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Close()
			w.take()
			b := compressible(size)
			var echo []byte
			if err := resp.Send(b); err != nil {
				t.Fatal(err)
			}
			if err := resp.Receive(&echo); err != nil || !bytes.Equal(echo, b) {
				t.Fatalf("streamed value: %d bytes back, %v", len(echo), err)
			}
			if up, down := w.take(); (up < size/10) != gatewayTakes || down >= size/10 {
				t.Errorf("a streamed value: %d bytes up, %d down; want up compressed %v, down compressed", up, down, gatewayTakes)
			}
		})
	}
}

// zstdOf compresses b as one zstd frame, declaring its size.
func zstdOf(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func compressedPayload(encoding byte, size uint64, z []byte) []byte {
	b := append([]byte{encoding}, binaryUvarint(size)...)
	return append(b, z...)
}

func binaryUvarint(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// A compressed value whose length once decompressed is over the frame
// limit, or over what its frame said, or that is not zstd, fails the call
// and nothing else: the server answers with an error and serves the next
// call. (compress_internal_test.go bounds what decoding them allocates.)
func TestCompressionBomb(t *testing.T) {
	const limit = 1 << 20
	bomb := rpc.ZstdBomb(t, 64<<20)             // 64 MiB of zeros, size not declared
	declared := zstdOf(t, make([]byte, 64<<20)) // 64 MiB of zeros, size declared
	cbor1k := append([]byte{0x59, 0x04, 0x00}, make([]byte, 1024)...)
	cases := []struct {
		name    string
		header  []string // metadata of the call
		payload []byte
		code    uint64
	}{
		{"declared over the limit", []string{"qtalk-compress", "zstd"}, compressedPayload(1, 64<<20, declared), uint64(rpc.CodeResourceExhausted)},
		{"declared under, zstd frame says more", []string{"qtalk-compress", "zstd"}, compressedPayload(1, 1024, declared), uint64(rpc.CodeInvalidArgument)},
		{"declared under, stream goes on", []string{"qtalk-compress", "zstd"}, compressedPayload(1, 1024, bomb), uint64(rpc.CodeInvalidArgument)},
		{"declared at the limit, stream goes on", []string{"qtalk-compress", "zstd"}, compressedPayload(1, limit, bomb), uint64(rpc.CodeInvalidArgument)},
		{"shorter than declared", []string{"qtalk-compress", "zstd"}, compressedPayload(1, 2048, zstdOf(t, cbor1k)), uint64(rpc.CodeInvalidArgument)},
		{"unknown encoding", []string{"qtalk-compress", "zstd"}, compressedPayload(2, uint64(len(cbor1k)), zstdOf(t, cbor1k)), uint64(rpc.CodeInvalidArgument)},
		{"not zstd", []string{"qtalk-compress", "zstd"}, compressedPayload(1, 1024, []byte("not zstd at all")), uint64(rpc.CodeInvalidArgument)},
	}
	h := start(t, transports[0], echoServer(&rpc.Server{MaxFrameSize: limit}))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := appendFrame(nil, kindCall, callPayload("echo", "cbor", 0, tc.header...))
			frames = appendFrame(frames, kindCompressed, tc.payload)
			ch := rawCall(t, h.cs, frames)
			kind, p, err := readFrame(ch)
			if err != nil || kind != kindReply {
				t.Fatalf("got frame %d, %v; want a reply", kind, err)
			}
			_, werr, err := parseReplyHeader(p)
			if err != nil || werr == nil || werr.code != tc.code {
				t.Fatalf("reply %+v, %v; want an error of code %d", werr, err, tc.code)
			}
		})
	}
	// The well-formed value, to the same server: taken.
	frames := appendFrame(nil, kindCall, callPayload("echo", "cbor", 0, "qtalk-compress", "zstd"))
	frames = appendFrame(frames, kindCompressed, compressedPayload(1, uint64(len(cbor1k)), zstdOf(t, cbor1k)))
	ch := rawCall(t, h.cs, frames)
	if kind, p, err := readFrame(ch); err != nil || kind != kindReply || p[0] != 0x08 {
		t.Fatalf("got frame %d %x, %v; want a reply with the compress flag alone", kind, p, err)
	}
	if kind, p, err := readFrame(ch); err != nil || kind != kindValue || !bytes.Equal(p, cbor1k) {
		t.Fatalf("got frame %d of %d bytes, %v; want the value, uncompressed (under the threshold)", kind, len(p), err)
	}

	// A server that does not take compressed values takes them for
	// malformed, and says nothing of compression in its replies.
	off := start(t, transports[0], echoServer(&rpc.Server{CompressMin: -1}))
	frames = appendFrame(nil, kindCall, callPayload("echo", "cbor", 0, "qtalk-compress", "zstd"))
	ch = rawCall(t, off.cs, appendFrame(frames, kindCompressed, compressedPayload(1, uint64(len(cbor1k)), zstdOf(t, cbor1k))))
	if kind, p, err := readFrame(ch); err != nil || kind != kindReply {
		t.Fatalf("got frame %d, %v; want a reply", kind, err)
	} else if _, werr, err := parseReplyHeader(p); err != nil || werr == nil || werr.code != uint64(rpc.CodeInvalidArgument) {
		t.Fatalf("reply %+v, %v; want invalid_argument", werr, err)
	}
	ch = rawCall(t, off.cs, appendFrame(frames, kindValue, cbor1k))
	if kind, p, err := readFrame(ch); err != nil || kind != kindReply || p[0] != 0 {
		t.Fatalf("got frame %d %x, %v; want a reply without flags", kind, p, err)
	}

	// A client gets the same from a server's bomb: the call fails.
	cliSide, srvSide := pipePair(t)
	go func() {
		ch, err := srvSide.Accept(context.Background())
		if err != nil {
			return
		}
		defer ch.Close()
		readFrame(ch)
		readFrame(ch)
		reply := appendFrame(nil, kindReply, []byte{0x08})
		ch.Write(appendFrame(reply, kindCompressed, compressedPayload(1, 1024, bomb)))
	}()
	cl := rpc.NewClient(cliSide, rpc.WithCompression(0), rpc.WithMaxFrameSize(limit), rpc.WithOpenAhead(0))
	_, err := cl.Call(context.Background(), "echo", nil, nil)
	if !errors.Is(err, rpc.ErrMalformed) {
		t.Errorf("a bomb in the reply: %v; want a malformed frame", err)
	}
}
