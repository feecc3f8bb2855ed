package fn

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/qtalkkit/qtalk/rpc"
)

// Stub sets the func fields of the struct ptr points to so that calling
// one calls c: a field's selector is prefix followed by the field name
// with its leading capital, or run of capitals, lower-cased (as
// HandlerFrom names methods: GetUser is "getUser", ID is "id"), or by the
// name in its `fn:"name"` tag. Fields tagged `fn:"-"` and unexported fields are left alone.
//
// Every other field must be a func that is not variadic and whose last
// result is an error. A leading context.Context parameter bounds the call
// (without one, calls use context.Background()); the other parameters are
// the arguments. The results before the error are decoded like CallInto
// decodes them, so two or more need an rpc.ArrayCodec. Funcs that
// return channels cannot be stubbed: use Stream.
//
// Stub does its reflection once: it sets no field unless every field is
// valid, and reports what is wrong with an error matching ErrUnsupported.
func Stub(c *rpc.Client, ptr any, prefix string) error {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return unsupported("Stub: got %T, want a non-nil pointer to a struct", ptr)
	}
	s := v.Elem()
	t := s.Type()
	funcs := make(map[int]reflect.Value)
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("fn")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = selectorName(f.Name)
		}
		fv, err := makeStub(c, prefix+name, f.Type)
		if err != nil {
			return unsupported("Stub: field %s.%s: %w", t, f.Name, err)
		}
		funcs[i] = fv
	}
	for i, fv := range funcs {
		s.Field(i).Set(fv)
	}
	return nil
}

// makeStub makes a func of type t that calls selector.
func makeStub(c *rpc.Client, selector string, t reflect.Type) (reflect.Value, error) {
	if t.Kind() != reflect.Func {
		return reflect.Value{}, fmt.Errorf("got a %s, want a func", t)
	}
	if t.IsVariadic() {
		return reflect.Value{}, errors.New("variadic funcs are not supported")
	}
	nres := t.NumOut() - 1
	if nres < 0 || t.Out(nres) != errorType {
		return reflect.Value{}, errors.New("the last result is not an error")
	}
	hasCtx := t.NumIn() > 0 && t.In(0) == contextType
	for i := range t.NumIn() {
		if p := t.In(i); !(i == 0 && hasCtx) {
			if err := checkEncodable(p); err != nil {
				return reflect.Value{}, fmt.Errorf("parameter %d (%s): %w", i, p, err)
			}
		}
	}
	results := make([]reflect.Type, nres)
	for i := range results {
		r := t.Out(i)
		if r.Kind() == reflect.Chan {
			return reflect.Value{}, fmt.Errorf("result %d (%s): a channel (use Stream)", i, r)
		}
		if err := checkDecodable(r); err != nil {
			return reflect.Value{}, fmt.Errorf("result %d (%s): %w", i, r, err)
		}
		results[i] = r
	}
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		ctx := context.Background()
		if hasCtx {
			if c, ok := in[0].Interface().(context.Context); ok {
				ctx = c
			}
			in = in[1:]
		}
		args := make([]any, len(in))
		for i, a := range in {
			args[i] = a.Interface()
		}
		out := make([]reflect.Value, nres+1)
		ptrs := make([]any, nres)
		for i, r := range results {
			p := reflect.New(r)
			ptrs[i] = p.Interface()
			out[i] = p.Elem()
		}
		err := CallInto(ctx, c, selector, args, ptrs...)
		if err != nil {
			for i, r := range results {
				out[i] = reflect.Zero(r)
			}
			out[nres] = reflect.ValueOf(&err).Elem()
			return out
		}
		out[nres] = reflect.Zero(errorType)
		return out
	}), nil
}
