package grid

import (
	"context"
	"errors"
	"fmt"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// A Connection is the handle to one other host of the grid: its link's
// state, and the requests and streams made to the host. It stays valid
// for the Manager's life, across every loss and return of the link.
type Connection struct {
	l *link
}

// Host returns the host's canonical address.
func (c *Connection) Host() string { return c.l.host }

// State returns the link's state now.
func (c *Connection) State() State {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.l.state
}

// Changed returns a channel that is closed at the next change of the
// link's state; read State then, and call Changed again for the one
// after.
func (c *Connection) Changed() <-chan struct{} {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.l.changed
}

// Request calls the handler registered as name on the host with payload
// and returns its reply. The deadline of ctx bounds the handler too, and
// cancelling ctx cancels it. While the link is down, Request fails at once
// with an error matching ErrUnavailable, as it does when the link is lost
// during the request. A handler's error arrives as an *rpc.Error.
func (c *Connection) Request(ctx context.Context, name string, payload []byte) ([]byte, error) {
	p, err := c.l.current()
	if err != nil {
		return nil, err
	}
	var reply []byte
	if _, err := p.Call(ctx, prefixRequest+name, payload, &reply); err != nil {
		return nil, c.l.callError(name, err)
	}
	return reply, nil
}

// callError wraps the error of a call made on the link: a session that
// ended under it makes the error match ErrUnavailable too.
func (l *link) callError(name string, err error) error {
	if errors.Is(err, mux.ErrSessionClosed) {
		return fmt.Errorf("grid: %s on %s: %w: %w", name, l.host, ErrUnavailable, err)
	}
	return fmt.Errorf("grid: %s on %s: %w", name, l.host, err)
}

// A Handler answers a request with a reply, or an error; an *rpc.Error
// keeps its code. Its ctx ends when the caller cancels, the deadline
// passes, or the link is lost.
type Handler func(ctx context.Context, payload []byte) ([]byte, error)

// Handle registers h to answer the requests named name. Like
// rpc.RespondMux.Handle, it panics on a name registered twice. Register
// before Start to serve from the first request: until then a request for
// the name fails with rpc.CodeNotFound.
func (m *Manager) Handle(name string, h Handler) {
	m.mux.HandleFunc(prefixRequest+name, m.guard(func(r rpc.Responder, c *rpc.Call) {
		var payload []byte
		if err := c.Receive(&payload); err != nil {
			r.Error(err)
			return
		}
		reply, err := h(c.Context(), payload)
		if err != nil {
			r.Error(err)
			return
		}
		r.Return(reply)
	}))
}

// Call makes the request name with req encoded as its CBOR payload, and
// decodes the reply into a T; see Connection.Request.
func Call[T any](ctx context.Context, c *Connection, name string, req any) (T, error) {
	var out T
	payload, err := rpc.CBOR.Append(nil, req)
	if err != nil {
		return out, fmt.Errorf("grid: %s: encode: %w", name, err)
	}
	reply, err := c.Request(ctx, name, payload)
	if err != nil {
		return out, err
	}
	if err := rpc.CBOR.Unmarshal(reply, &out); err != nil {
		return out, fmt.Errorf("grid: %s: decode reply: %w", name, err)
	}
	return out, nil
}

// HandleFunc registers f to answer the requests named name, with their
// CBOR payload decoded into a Req and its Resp encoded as the reply. A
// payload that does not decode fails the request with
// rpc.CodeInvalidArgument.
func HandleFunc[Req, Resp any](m *Manager, name string, f func(ctx context.Context, req Req) (Resp, error)) {
	m.Handle(name, func(ctx context.Context, payload []byte) ([]byte, error) {
		var req Req
		if err := rpc.CBOR.Unmarshal(payload, &req); err != nil {
			return nil, rpc.NewError(rpc.CodeInvalidArgument, fmt.Errorf("grid: %s: %w", name, err))
		}
		resp, err := f(ctx, req)
		if err != nil {
			return nil, err
		}
		return rpc.CBOR.Append(nil, resp)
	})
}
