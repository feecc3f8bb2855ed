package rpc_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

// rawReader is a handler that continues the call, reads the raw byte
// stream to its end and reports what it read and whether its context was
// still alive at that point.
func rawReader(got chan<- []byte, ctxErr chan<- error) func(rpc.Responder, *rpc.Call) {
	return func(r rpc.Responder, c *rpc.Call) {
		c.Receive(nil)
		if r.Continue(nil) != nil {
			return
		}
		data, _ := io.ReadAll(r.Conn())
		ctxErr <- c.Context().Err()
		got <- data
	}
}

// After Continue the channel carries the application's bytes and nothing
// else: bytes that happen to look like an rpc frame (here, a CANCEL
// frame) are data like any other.
func TestRawStreamIsOpaque(t *testing.T) {
	cancelLike := appendFrame(nil, 6, []byte{1, 1, 'x', 0}) // kind 6, code canceled, "x", no details
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"starts like a cancel frame", append(bytes.Clone(cancelLike), "and more"...)},
		{"starts like an end frame", append(appendFrame(nil, 5, nil), "and more"...)},
		{"starts like an error frame", append(appendFrame(nil, kindError, []byte{2, 0, 0}), "and more"...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tc transportCase) {
				got, ctxErr := make(chan []byte, 1), make(chan error, 1)
				h := startFunc(t, tc, rawReader(got, ctxErr))
				resp, err := h.client.Call(context.Background(), "raw", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Close()
				conn := resp.Conn()
				if _, err := conn.Write(tt.data); err != nil {
					t.Fatal(err)
				}
				conn.CloseWrite()
				if data := waitFor(t, got, "the handler"); !bytes.Equal(data, tt.data) {
					t.Errorf("the handler read %q, the client wrote %q", data, tt.data)
				}
				if err := <-ctxErr; err != nil {
					t.Errorf("the handler's context ended with %v while it read the raw stream", err)
				}
			})
		})
	}
}

// Cancelling a call whose channel carries a raw byte stream must not
// write anything into that stream: the handler reads exactly what the
// client wrote.
func TestCancelDuringRawStream(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		got, ctxErr := make(chan []byte, 1), make(chan error, 1)
		h := startFunc(t, tc, rawReader(got, ctxErr))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := h.client.Call(ctx, "raw", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		if _, err := resp.Conn().Write([]byte("abc")); err != nil {
			t.Fatal(err)
		}
		cancel()
		if data := waitFor(t, got, "the handler"); !bytes.Equal(data, []byte("abc")) {
			t.Errorf("the handler read %q from the raw stream, the client wrote %q", data, "abc")
		}
		<-ctxErr
	})
}
