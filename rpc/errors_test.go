package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

func TestCodeString(t *testing.T) {
	for code, name := range map[rpc.Code]string{
		rpc.CodeOK: "ok", rpc.CodeCanceled: "canceled", rpc.CodeInvalidArgument: "invalid_argument",
		rpc.CodeResourceExhausted: "resource_exhausted", rpc.CodeUnauthenticated: "unauthenticated",
		17: "code_17",
	} {
		if got := code.String(); got != name {
			t.Errorf("Code(%d).String() = %q, want %q", uint32(code), got, name)
		}
	}
}

func TestCodeOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want rpc.Code
	}{
		{nil, rpc.CodeOK},
		{errors.New("x"), rpc.CodeUnknown},
		{context.Canceled, rpc.CodeCanceled},
		{fmt.Errorf("op: %w", context.DeadlineExceeded), rpc.CodeDeadlineExceeded},
		{fmt.Errorf("op: %w", mux.ErrSessionClosed), rpc.CodeUnavailable},
		{fmt.Errorf("op: %w", rpc.Errorf(rpc.CodePermissionDenied, "no")), rpc.CodePermissionDenied},
	} {
		if got := rpc.CodeOf(tt.err); got != tt.want {
			t.Errorf("CodeOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestErrorLocalWrapping(t *testing.T) {
	cause := errors.New("disk full")
	e := rpc.Errorf(rpc.CodeResourceExhausted, "write: %w", cause)
	if !errors.Is(e, cause) || !errors.Is(e, rpc.ErrResourceExhausted) || errors.Is(e, rpc.ErrInternal) {
		t.Fatalf("Errorf wrapping: Is(cause)=%v Is(sentinel)=%v", errors.Is(e, cause), errors.Is(e, rpc.ErrResourceExhausted))
	}
	if e.Message != "write: disk full" {
		t.Fatalf("Message %q", e.Message)
	}
	if n := rpc.NewError(rpc.CodeAborted, cause); !errors.Is(n, cause) || n.Code != rpc.CodeAborted {
		t.Fatalf("NewError: %v", n)
	}
}

// Errors a handler reports arrive as *rpc.Error with their code, message
// and details.
func TestHandlerErrors(t *testing.T) {
	withDetails := rpc.Errorf(rpc.CodeInvalidArgument, "size %d is not a power of two", 7)
	withDetails.Details = []byte{0x00, 0xff, 'd'}
	for _, tt := range []struct {
		name     string
		err      error
		code     rpc.Code
		message  string
		details  []byte
		sentinel error
	}{
		{"rpc error with details", withDetails, rpc.CodeInvalidArgument, "size 7 is not a power of two", []byte{0x00, 0xff, 'd'}, rpc.ErrInvalidArgument},
		{"plain error", errors.New("plain failure"), rpc.CodeUnknown, "plain failure", nil, rpc.ErrUnknown},
		{"canceled", context.Canceled, rpc.CodeCanceled, context.Canceled.Error(), nil, context.Canceled},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), rpc.CodeDeadlineExceeded, "query: " + context.DeadlineExceeded.Error(), nil, context.DeadlineExceeded},
		{"wrapped rpc error", fmt.Errorf("lookup: %w", rpc.Errorf(rpc.CodeNotFound, "no user")), rpc.CodeNotFound, "", nil, rpc.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tc transportCase) {
				h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) { r.Error(tt.err) })
				resp, err := h.client.Call(context.Background(), "fail", nil, nil)
				if resp != nil {
					t.Error("a failed call returned a Response")
				}
				if !errors.Is(err, tt.sentinel) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
				}
				e := asRPCError(t, err)
				if e.Code != tt.code || rpc.CodeOf(err) != tt.code {
					t.Errorf("code %v, want %v", e.Code, tt.code)
				}
				if tt.message != "" && e.Message != tt.message {
					t.Errorf("message %q, want %q", e.Message, tt.message)
				}
				if !bytes.Equal(e.Details, tt.details) {
					t.Errorf("details %x, want %x", e.Details, tt.details)
				}
			})
		})
	}
}

func TestPanicIsInternalAndServerGoesOn(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		m := rpc.NewRespondMux()
		m.HandleFunc("boom", func(rpc.Responder, *rpc.Call) { panic("boom") })
		m.HandleFunc("boom-error", func(rpc.Responder, *rpc.Call) { panic(io.ErrClosedPipe) })
		m.HandleFunc("swap", swap)
		h := start(t, tc, &rpc.Server{Handler: m})
		for range 3 {
			for _, sel := range []string{"boom", "boom-error"} {
				_, err := h.client.Call(context.Background(), sel, nil, nil)
				if !errors.Is(err, rpc.ErrInternal) {
					t.Fatalf("%s: got %v, want an internal error", sel, err)
				}
			}
			var p point
			if _, err := h.client.Call(context.Background(), "swap", point{1, 2, "x"}, &p); err != nil || p.X != 2 {
				t.Fatalf("after a panic: %+v, %v", p, err)
			}
		}
	})
}

// A handler that panics after Continue must not end its stream the way a
// finished stream ends: the client would take a partial result for a
// whole one.
func TestPanicMidStreamIsAnError(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			r.Continue(nil)
			r.Send(1)
			panic("half way")
		})
		resp, err := h.client.Call(context.Background(), "stream", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		var v int
		if err := resp.Receive(&v); err != nil || v != 1 {
			t.Fatalf("first value: %d, %v", v, err)
		}
		err = resp.Receive(&v)
		if errors.Is(err, io.EOF) {
			t.Fatal("a handler panic mid-stream ended the stream with io.EOF, like a normal end")
		}
		if !errors.Is(err, rpc.ErrInternal) {
			t.Fatalf("after the panic: %v, want an internal error", err)
		}
	})
}

// A handler ends a stream with an error after sending values: the client
// receives the values, then the error.
func TestStreamEndsWithError(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		errAfter := make(chan error, 1)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			r.Continue(nil)
			r.Send(1)
			r.Send(2)
			errAfter <- r.Error(rpc.Errorf(rpc.CodeAborted, "source went away"))
		})
		resp, err := h.client.Call(context.Background(), "stream", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		for want := 1; want <= 2; want++ {
			var v int
			if err := resp.Receive(&v); err != nil || v != want {
				t.Fatalf("value %d: %d, %v", want, v, err)
			}
		}
		err = resp.Receive(nil)
		if werr := waitFor(t, errAfter, "the handler"); werr != nil {
			t.Errorf("Responder.Error after Continue: %v", werr)
		}
		if !errors.Is(err, &rpc.Error{Code: rpc.CodeAborted}) {
			t.Fatalf("end of stream: %v, want the handler's aborted error", err)
		}
		if e := asRPCError(t, err); e.Message != "source went away" {
			t.Fatalf("message %q", e.Message)
		}
	})
}
