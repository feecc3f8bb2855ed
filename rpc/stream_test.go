package rpc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

// count streams the integers 0..n-1 after a continued reply of "counting".
func count(r rpc.Responder, c *rpc.Call) {
	var n int
	if err := c.Receive(&n); err != nil {
		r.Error(err)
		return
	}
	if err := r.Continue("counting"); err != nil {
		return
	}
	for i := range n {
		if err := r.Send(i); err != nil {
			return
		}
	}
}

func TestServerStreaming(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, count)
		var first string
		resp, err := h.client.Call(context.Background(), "count", 100, &first)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if !resp.Continue || first != "counting" {
			t.Fatalf("reply %q, Continue %v", first, resp.Continue)
		}
		for want := range 100 {
			var got int
			if err := resp.Receive(&got); err != nil || got != want {
				t.Fatalf("got %d, %v; want %d", got, err, want)
			}
		}
		for range 2 {
			if err := resp.Receive(nil); !errors.Is(err, io.EOF) {
				t.Fatalf("after the stream: %v, want io.EOF", err)
			}
		}
	})
}

// sum adds the integers the client streams and sends the total.
func sum(ctxErr chan<- error) func(rpc.Responder, *rpc.Call) {
	return func(r rpc.Responder, c *rpc.Call) {
		if err := c.Receive(nil); err != nil { // the arguments
			r.Error(err)
			return
		}
		if err := r.Continue(nil); err != nil {
			return
		}
		total := 0
		for {
			var v int
			err := c.Receive(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
			total += v
		}
		if ctxErr != nil {
			ctxErr <- c.Context().Err()
		}
		r.Send(total)
	}
}

func TestClientStream(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, sum(nil))
		resp, err := h.client.Call(context.Background(), "sum", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		want := 0
		for i := range 1000 {
			if err := resp.Send(i); err != nil {
				t.Fatal(err)
			}
			want += i
		}
		if err := resp.CloseSend(); err != nil {
			t.Fatal(err)
		}
		var got int
		if err := resp.Receive(&got); err != nil || got != want {
			t.Fatalf("sum %d, %v; want %d", got, err, want)
		}
		if err := resp.Receive(nil); !errors.Is(err, io.EOF) {
			t.Fatalf("after the sum: %v, want io.EOF", err)
		}
	})
}

// CloseSend is a half-close, not a cancellation: the handler's context
// must stay alive after the client closes its side of a stream, even when
// the client sent nothing before.
func TestCloseSendDoesNotCancel(t *testing.T) {
	for _, values := range []int{0, 3} {
		t.Run(map[int]string{0: "no values", 3: "three values"}[values], func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tc transportCase) {
				ctxErr := make(chan error, 1)
				h := startFunc(t, tc, sum(ctxErr))
				resp, err := h.client.Call(context.Background(), "sum", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Close()
				for i := range values {
					resp.Send(i)
				}
				resp.CloseSend()
				var got int
				if err := resp.Receive(&got); err != nil {
					t.Fatal(err)
				}
				if err := waitFor(t, ctxErr, "the handler"); err != nil {
					t.Fatalf("after CloseSend with %d values the handler's context ended: %v", values, err)
				}
			})
		})
	}
}

func TestBidiStream(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			if r.Continue(nil) != nil {
				return
			}
			for {
				var s string
				if err := c.Receive(&s); err != nil {
					return // io.EOF: the client is done
				}
				if err := r.Send("echo " + s); err != nil {
					return
				}
			}
		})
		resp, err := h.client.Call(context.Background(), "echo", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		for i := range 200 {
			msg := string(rune('a' + i%26))
			if err := resp.Send(msg); err != nil {
				t.Fatal(err)
			}
			var got string
			if err := resp.Receive(&got); err != nil || got != "echo "+msg {
				t.Fatalf("round %d: %q, %v", i, got, err)
			}
		}
		resp.CloseSend()
		if err := resp.Receive(nil); !errors.Is(err, io.EOF) {
			t.Fatalf("after CloseSend: %v, want io.EOF", err)
		}
	})
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

// After a continued reply the channel carries raw bytes: the handler
// echoes them with io.Copy and the client checks what comes back.
func TestRawStreamEcho(t *testing.T) {
	const size = 8 << 20
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			if r.Continue("go ahead") != nil {
				return
			}
			conn := r.Conn()
			io.Copy(conn, conn)
		})
		var ack string
		resp, err := h.client.Call(context.Background(), "raw", nil, &ack)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if ack != "go ahead" {
			t.Fatalf("reply value %q", ack)
		}
		conn := resp.Conn()
		data := randomBytes(size, 1)
		written := make(chan error, 1)
		go func() {
			_, err := conn.Write(data)
			if err == nil {
				err = conn.CloseWrite()
			}
			written <- err
		}()
		hash := sha256.New()
		n, err := io.Copy(hash, conn)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-written; err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(data)
		if n != size || !bytes.Equal(hash.Sum(nil), want[:]) {
			t.Fatalf("echo of %d bytes came back as %d bytes with a different checksum", size, n)
		}
	})
}

// Large values both ways, checked end to end with sha256.
func TestLargeStreams(t *testing.T) {
	const chunk, chunks = 64 << 10, 256 // 16 MiB each way
	data := randomBytes(chunk*chunks, 2)
	want := sha256.Sum256(data)
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		m := rpc.NewRespondMux()
		m.HandleFunc("download", func(r rpc.Responder, c *rpc.Call) {
			if r.Continue(chunks) != nil {
				return
			}
			for i := range chunks {
				if r.Send(data[i*chunk:(i+1)*chunk]) != nil {
					return
				}
			}
		})
		m.HandleFunc("upload", func(r rpc.Responder, c *rpc.Call) {
			c.Receive(nil)
			if r.Continue(nil) != nil {
				return
			}
			hash, n := sha256.New(), 0
			for {
				var b []byte
				err := c.Receive(&b)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return
				}
				hash.Write(b)
				n += len(b)
			}
			r.Send(struct {
				N   int
				Sum []byte
			}{n, hash.Sum(nil)})
		})
		h := start(t, tc, &rpc.Server{Handler: m})

		t.Run("download", func(t *testing.T) {
			var n int
			resp, err := h.client.Call(context.Background(), "download", nil, &n)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Close()
			hash, total := sha256.New(), 0
			for {
				var b []byte
				err := resp.Receive(&b)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				hash.Write(b)
				total += len(b)
			}
			if total != len(data) || !bytes.Equal(hash.Sum(nil), want[:]) {
				t.Fatalf("downloaded %d bytes, checksum mismatch or short", total)
			}
		})
		t.Run("upload", func(t *testing.T) {
			resp, err := h.client.Call(context.Background(), "upload", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Close()
			for i := range chunks {
				if err := resp.Send(data[i*chunk : (i+1)*chunk]); err != nil {
					t.Fatal(err)
				}
			}
			resp.CloseSend()
			var got struct {
				N   int
				Sum []byte
			}
			if err := resp.Receive(&got); err != nil {
				t.Fatal(err)
			}
			if got.N != len(data) || !bytes.Equal(got.Sum, want[:]) {
				t.Fatalf("server received %d bytes, checksum mismatch or short", got.N)
			}
		})
	})
}
