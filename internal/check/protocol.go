package check

import (
	"errors"
	"fmt"
	"io"

	"github.com/qtalkkit/qtalk/rpc"
)

// Prefix is the prefix pattern the protocol is served under.
const Prefix = "check:"

// The selectors of the protocol.
const (
	Echo     = Prefix + "echo"
	Metadata = Prefix + "metadata"
	Fail     = Prefix + "fail"
	Stream   = Prefix + "stream"
	Sum      = Prefix + "sum"
	Bytes    = Prefix + "bytes"
	Callback = Prefix + "callback"
)

// MaxStream is the largest count check:stream accepts.
const MaxStream = 10000

// Failure is the argument of check:fail: the error to fail with.
type Failure struct {
	Code    uint32 `json:"code"`
	Message string `json:"message"`
}

// Handler returns a mux that serves the protocol with the selectors
// stripped of Prefix; register it under Prefix:
//
//	root.Handle(check.Prefix, check.Handler())
func Handler() *rpc.RespondMux {
	m := rpc.NewRespondMux()
	m.HandleFunc("echo", echo)
	m.HandleFunc("metadata", metadata)
	m.HandleFunc("fail", fail)
	m.HandleFunc("stream", stream)
	m.HandleFunc("sum", sum)
	m.HandleFunc("bytes", echoBytes)
	m.HandleFunc("callback", callback)
	return m
}

func echo(r rpc.Responder, c *rpc.Call) {
	var v any
	if err := c.Receive(&v); err != nil {
		r.Error(err)
		return
	}
	r.Return(v)
}

func metadata(r rpc.Responder, c *rpc.Call) {
	if err := c.Receive(nil); err != nil {
		r.Error(err)
		return
	}
	md := c.Metadata
	if md == nil {
		md = rpc.Metadata{}
	}
	r.Return(md)
}

func fail(r rpc.Responder, c *rpc.Call) {
	var f Failure
	if err := c.Receive(&f); err != nil {
		r.Error(err)
		return
	}
	if f.Code == 0 || f.Code > uint32(rpc.CodeUnauthenticated) {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "check:fail: code %d is not an error code (1..16)", f.Code))
		return
	}
	r.Error(&rpc.Error{Code: rpc.Code(f.Code), Message: f.Message})
}

func stream(r rpc.Responder, c *rpc.Call) {
	var n int
	if err := c.Receive(&n); err != nil {
		r.Error(err)
		return
	}
	if n < 0 || n > MaxStream {
		r.Error(rpc.Errorf(rpc.CodeInvalidArgument, "check:stream: count %d out of range 0..%d", n, MaxStream))
		return
	}
	if err := r.Continue(nil); err != nil {
		return
	}
	for i := range n {
		if err := r.Send(i); err != nil {
			return // the call is over
		}
	}
}

func sum(r rpc.Responder, c *rpc.Call) {
	if err := c.Receive(nil); err != nil {
		r.Error(err)
		return
	}
	if err := r.Continue(nil); err != nil {
		return
	}
	var total int64
	for {
		var n int64
		err := c.Receive(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.Error(err)
			return
		}
		total += n
	}
	r.Send(total)
}

func echoBytes(r rpc.Responder, c *rpc.Call) {
	if err := c.Receive(nil); err != nil {
		r.Error(err)
		return
	}
	if err := r.Continue(nil); err != nil {
		return
	}
	conn := r.Conn()
	if _, err := io.Copy(conn, conn); err != nil {
		return
	}
	conn.CloseWrite()
}

func callback(r rpc.Responder, c *rpc.Call) {
	var v any
	if err := c.Receive(&v); err != nil {
		r.Error(err)
		return
	}
	var out any
	if _, err := c.Caller.Call(c.Context(), Echo, v, &out); err != nil {
		r.Error(fmt.Errorf("check:callback: calling back %s: %w", Echo, err))
		return
	}
	r.Return(out)
}
