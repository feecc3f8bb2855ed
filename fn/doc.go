// Package fn serves plain Go funcs and methods as rpc handlers, and calls
// them with typed arguments and results.
//
//	h, err := fn.HandlerFrom(&Calc{})      // "add", "div", ... for Calc's methods
//	sum, err := fn.Call[int](ctx, client, "add", 2, 3)
//
// Types are inspected once, when a handler or a stub is made; a call only
// allocates its arguments and goes through reflect.Value.Call.
//
// # Wire convention
//
// The arguments of a call are one value: an array whose elements are the
// func's parameters in order, a leading context.Context excluded. A func
// without parameters takes an empty array (null is accepted too). A
// trailing error result is not encoded: a non-nil error becomes the call's
// rpc error. The other results are the reply value:
//
//   - no result: null;
//   - one result: that value;
//   - several results: an array of them, in order.
//
// A func whose only result (the error aside) is a channel replies with
// null and continues the call; each value received from the channel
// follows as a stream value, and the call ends when the channel is closed.
//
// Any rpc client can call these funcs by following the convention; the
// handlers decode the argument array with rpc.Call.ReceiveArgs, so the
// call's codec must be an rpc.ArrayCodec (every built-in codec is: CBOR,
// JSON, msgpack and protobuf).
//
// # Handlers
//
// HandlerFrom takes a func, a struct or a pointer to a struct; HandlerFor
// takes a value and the interface type whose methods to serve. A struct's
// exported methods (or the interface's) each get a handler in an
// *rpc.RespondMux, selected by the method name with its leading capital,
// or run of capitals, lower-cased: Add is "add", GetUser is "getUser",
// ID is "id", HTTPGet is "httpGet". Register
// the mux under a prefix pattern ("calc.") of another RespondMux to serve
// several structs on one session.
//
// A func or method can be served if:
//
//   - it is not variadic;
//   - its first parameter may be a context.Context, which gets the call's
//     context (rpc.Call.Context); no other parameter is a context;
//   - its other parameters can be decoded: no funcs, channels or
//     unsafe pointers, and no interface types with methods (any is fine,
//     and gets what the codec decodes into an any);
//   - its last result may be an error, and no other result is one;
//   - its other results are values the codec can encode, or one channel
//     that can be received from (see Streams).
//
// These checks look at the top-level types only; a type the codec cannot
// handle deeper down fails at call time. HandlerFrom and HandlerFor fail
// with an error matching ErrUnsupported if a func or any exported method
// (of the struct, or of the interface) breaks a rule: no method is
// skipped silently. To serve some methods of a type only, list them in an
// interface and use HandlerFor.
//
// A call with the wrong number of arguments, or an argument that does not
// decode into its parameter, fails with rpc.CodeInvalidArgument and a
// message naming the expected types, or the zero-based index of the
// argument on the wire and its Go type: "argument 1 (int): ...". A panic
// in the func is not recovered here: rpc.Server turns it into a
// CodeInternal error.
//
// SignatureOf tells the Go types of a handler's arguments and results,
// found through the *rpc.RespondMux a selector goes through; servers of
// package talk/service answer them to the built-in label qtalk:describe.
//
// # Streams
//
// A func that returns a channel, such as
//
//	func Count(ctx context.Context, n int) (<-chan int, error)
//
// is served as a stream: after a nil error, the handler continues the
// call and sends every value it receives until the func closes the
// channel. A nil channel is an empty stream. When the call's context ends
// (the client cancelled or closed the call, or the session ended), the
// handler stops and abandons the channel: it is neither drained nor read
// again. So a func that produces values in a goroutine must take the
// context and select on ctx.Done() beside each send, then close the
// channel; one that cannot be stopped would block its goroutine forever.
//
// Clients read streams with Stream, a range-over-func sequence; breaking
// out of the loop ends the call and so cancels the func's context.
//
// # Clients
//
// Call decodes a single result into its type parameter, Invoke discards
// the results, and CallInto decodes any number of results into pointers.
// Decoding an array of several results splits it with the codec, so
// CallInto with two or more results (and stubs with two or more results)
// need an rpc.ArrayCodec, as every built-in codec is.
//
// Stub fills a struct of func fields with funcs that make calls:
//
//	var calc struct {
//		Add func(ctx context.Context, a, b int) (int, error)
//		Div func(a, b int) (q, r int, err error)
//		Reset func() error `fn:"clear"`
//	}
//	err := fn.Stub(client, &calc, "calc.")
//
// # Errors
//
// Errors returned by served funcs travel as rpc errors: an *rpc.Error
// keeps its code and message, any other error becomes rpc.CodeUnknown with
// its message. Clients see *rpc.Error values, matched with errors.As or
// with errors.Is against the rpc sentinels (rpc.ErrNotFound and so on);
// the identity of other sentinel errors does not cross the wire.
package fn
