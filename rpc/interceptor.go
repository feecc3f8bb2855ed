package rpc

import (
	"context"
	"maps"
)

// An Interceptor wraps calls: on the client side each call a Client
// makes (WithInterceptors), on the server side the Handler of each call
// (Intercept). A qtalk call becomes a stream only when the handler
// continues it, so one function covers unary and streaming calls alike:
// on the client the *Response a CallFunc returns has Continue set for a
// stream, on the server the wrapped Handler serves whatever the call
// turns out to be. An interceptor sees the label (the selector), the
// metadata and, on the server, the caller's identity (Call.Peer); it can
// refuse a call with an error and a code of its choice, change the
// metadata of an outgoing call, and run code around the call.
type Interceptor interface {
	// WrapCall wraps a client's calls.
	WrapCall(next CallFunc) CallFunc
	// WrapHandler wraps a server's handler.
	WrapHandler(next Handler) Handler
}

// A CallFunc makes an outgoing call (see Client.Call).
type CallFunc func(ctx context.Context, call *OutgoingCall) (*Response, error)

// An OutgoingCall is a call a client is about to make, as its
// interceptors see it.
type OutgoingCall struct {
	// Selector names what is called.
	Selector string
	// Metadata is the call's metadata: a copy of the caller's, which
	// interceptors may change.
	Metadata Metadata
	// Args and Reply are the arguments and the value the reply is
	// decoded into, as given to Client.Call.
	Args, Reply any
}

// ClientInterceptorFunc is an Interceptor of client calls only: its
// WrapHandler returns the handler as it is.
type ClientInterceptorFunc func(next CallFunc) CallFunc

func (f ClientInterceptorFunc) WrapCall(next CallFunc) CallFunc  { return f(next) }
func (f ClientInterceptorFunc) WrapHandler(next Handler) Handler { return next }

// ServerInterceptorFunc is an Interceptor of server handlers only: its
// WrapCall returns the call function as it is.
type ServerInterceptorFunc func(next Handler) Handler

func (f ServerInterceptorFunc) WrapCall(next CallFunc) CallFunc  { return next }
func (f ServerInterceptorFunc) WrapHandler(next Handler) Handler { return f(next) }

// Intercept returns h wrapped by the interceptors: the first one given
// runs first, around all the others.
func Intercept(h Handler, interceptors ...Interceptor) Handler {
	for i := len(interceptors) - 1; i >= 0; i-- {
		h = interceptors[i].WrapHandler(h)
	}
	return h
}

// WithInterceptors makes the client's calls go through the interceptors:
// the first one given runs first, around all the others.
func WithInterceptors(interceptors ...Interceptor) ClientOption {
	return func(cl *Client) { cl.interceptors = append(cl.interceptors, interceptors...) }
}

// intercepted makes a call through the client's interceptors; opts are
// the caller's, their metadata replaced by what the interceptors leave.
func (c *Client) intercepted(ctx context.Context, selector string, args, reply any, opts []CallOption) (*Response, error) {
	var h callHeader
	for _, o := range opts {
		o(&h)
	}
	call := &OutgoingCall{Selector: selector, Metadata: maps.Clone(h.metadata), Args: args, Reply: reply}
	if call.Metadata == nil {
		call.Metadata = Metadata{}
	}
	next := CallFunc(func(ctx context.Context, call *OutgoingCall) (*Response, error) {
		return c.call(ctx, call.Selector, call.Args, call.Reply, append(opts, WithMetadata(call.Metadata))...)
	})
	for i := len(c.interceptors) - 1; i >= 0; i-- {
		next = c.interceptors[i].WrapCall(next)
	}
	return next(ctx, call)
}

// A CodeRecorder is a Responder that notes how the call was answered, for
// interceptors that report it: wrap the Responder a handler gets, pass
// the recorder on, and read Code (CodeOK unless Error was called) and
// Continued when the handler has returned. It unwraps to the Responder
// underneath, for rpc.Forward.
type CodeRecorder struct {
	Responder
	Code      Code
	Continued bool
}

func (r *CodeRecorder) Error(err error) error {
	r.Code = CodeOf(err)
	return r.Responder.Error(err)
}

func (r *CodeRecorder) Continue(v any) error {
	r.Continued = true
	return r.Responder.Continue(v)
}

// Unwrap returns the Responder underneath.
func (r *CodeRecorder) Unwrap() Responder { return r.Responder }
