package fn

import (
	"reflect"
	"runtime"

	"github.com/qtalkkit/qtalk/rpc"
)

// HandlerFrom returns a handler that serves v:
//
//   - a func: calls it with the arguments of each call and replies with
//     its results (see the package documentation for the signatures it
//     takes);
//   - a struct, or a pointer to one: an *rpc.RespondMux with a handler per
//     exported method of v's method set, selected by the method name with
//     its leading capital, or run of capitals, lower-cased ("getUser",
//     "id", "httpGet"). A struct value has only its
//     value-receiver methods; pass a pointer for the others.
//
// It returns an error matching ErrUnsupported for other values, for
// structs without exported methods, and when a func or any exported
// method has a signature it cannot serve; use HandlerFor to expose only
// some methods.
func HandlerFrom(v any) (rpc.Handler, error) {
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return nil, unsupported("HandlerFrom(nil)")
	case rv.Kind() == reflect.Func:
		if rv.IsNil() {
			return nil, unsupported("HandlerFrom: a nil %s", rv.Type())
		}
		h, err := newFuncHandler(rv)
		if err != nil {
			return nil, unsupported("%s: %w", runtime.FuncForPC(rv.Pointer()).Name(), err)
		}
		return h, nil
	case rv.Kind() == reflect.Struct:
		return methodMux(rv, rv.Type())
	case rv.Kind() == reflect.Pointer && rv.Type().Elem().Kind() == reflect.Struct:
		if rv.IsNil() {
			return nil, unsupported("HandlerFrom: a nil %s", rv.Type())
		}
		return methodMux(rv, rv.Type())
	}
	return nil, unsupported("HandlerFrom: got %s, want a func, a struct or a pointer to a struct", rv.Type())
}

// MustHandlerFrom is HandlerFrom for package initialization: it panics if
// HandlerFrom fails.
func MustHandlerFrom(v any) rpc.Handler {
	h, err := HandlerFrom(v)
	if err != nil {
		panic(err)
	}
	return h
}

// HandlerFor returns an *rpc.RespondMux that serves the methods of the
// interface type I, and no other method, of impl: a handler per method,
// selected by the method name as HandlerFrom selects it. I must
// be an interface type, impl must not be nil, and every exported method of
// I must have a signature HandlerFrom takes; unexported methods are not
// served.
func HandlerFor[I any](impl I) (rpc.Handler, error) {
	t := reflect.TypeFor[I]()
	if t.Kind() != reflect.Interface {
		return nil, unsupported("HandlerFor[%s]: not an interface type", t)
	}
	rv := reflect.ValueOf(&impl).Elem() // the interface, not its dynamic value
	if rv.IsNil() {
		return nil, unsupported("HandlerFor[%s]: a nil implementation", t)
	}
	return methodMux(rv, t)
}

// methodMux serves the exported methods of t, the type of v or an
// interface v implements, with an *rpc.RespondMux. It returns a nil
// interface, not a nil *rpc.RespondMux, with an error.
func methodMux(v reflect.Value, t reflect.Type) (rpc.Handler, error) {
	m := rpc.NewRespondMux()
	n := 0
	for i := range t.NumMethod() {
		meth := t.Method(i)
		if !meth.IsExported() {
			continue // only interfaces list unexported methods
		}
		h, err := newFuncHandler(v.Method(i))
		if err != nil {
			return nil, unsupported("method %s.%s: %w", t, meth.Name, err)
		}
		m.Handle(selectorName(meth.Name), h)
		n++
	}
	if n == 0 {
		if t.Kind() == reflect.Struct && reflect.PointerTo(t).NumMethod() > 0 {
			return nil, unsupported("%s has no exported value-receiver methods (pass a *%s)", t, t)
		}
		return nil, unsupported("%s has no exported methods", t)
	}
	return m, nil
}

// funcHandler serves calls to a func.
type funcHandler struct {
	fn  reflect.Value
	sig *signature
}

var _ rpc.Handler = (*funcHandler)(nil)

func newFuncHandler(fn reflect.Value) (*funcHandler, error) {
	sig, err := parseHandlerFunc(fn.Type())
	if err != nil {
		return nil, err
	}
	return &funcHandler{fn: fn, sig: sig}, nil
}

func (h *funcHandler) RespondRPC(r rpc.Responder, c *rpc.Call) {
	sig := h.sig
	// Buffers for the common case of a few parameters spare allocations.
	var inBuf [4]reflect.Value
	var ptrBuf [4]any
	var in []reflect.Value
	if sig.numIn <= len(inBuf) {
		in = inBuf[:sig.numIn]
	} else {
		in = make([]reflect.Value, sig.numIn)
	}
	wire := in
	if sig.ctx {
		in[0] = reflect.ValueOf(c.Context())
		wire = in[1:]
	}
	var ptrs []any
	if sig.args != nil {
		args := reflect.New(sig.args).Elem()
		if len(wire) <= len(ptrBuf) {
			ptrs = ptrBuf[:len(wire)]
		} else {
			ptrs = make([]any, len(wire))
		}
		for i := range wire {
			f := args.Field(i)
			ptrs[i] = f.Addr().Interface()
			wire[i] = f
		}
	}
	if err := c.ReceiveArgs(ptrs...); err != nil {
		r.Error(err)
		return
	}
	out := h.fn.Call(in)
	if sig.err {
		if e := out[len(out)-1]; !e.IsNil() {
			r.Error(e.Interface().(error))
			return
		}
	}
	switch {
	case sig.stream:
		streamChannel(r, c, out[0])
	case sig.results == 0:
		r.Return(nil)
	case sig.results == 1:
		r.Return(out[0].Interface())
	default:
		vals := make([]any, sig.results)
		for i := range vals {
			vals[i] = out[i].Interface()
		}
		r.Return(vals)
	}
}

// streamChannel continues the call and sends the values received from ch
// until it is closed or the call's context ends; then it abandons ch.
func streamChannel(r rpc.Responder, c *rpc.Call, ch reflect.Value) {
	if err := r.Continue(nil); err != nil || ch.IsNil() {
		return
	}
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.Context().Done())},
		{Dir: reflect.SelectRecv, Chan: ch},
	}
	for {
		chosen, v, ok := reflect.Select(cases)
		if chosen == 0 || !ok {
			return
		}
		if err := r.Send(v.Interface()); err != nil {
			return
		}
	}
}
