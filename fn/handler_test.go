package fn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// Calc is the service most tests serve.
type Calc struct {
	mu    sync.Mutex
	total int
}

func (c *Calc) Add(a, b int) int { return a + b }

func (c *Calc) Div(a, b int) (q, r int, err error) {
	if b == 0 {
		return 0, 0, rpc.Errorf(rpc.CodeOutOfRange, "division of %d by zero", a)
	}
	return a / b, a % b, nil
}

func (c *Calc) Accumulate(ctx context.Context, n int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += n
	return c.total, nil
}

func (c *Calc) Reset() {
	c.mu.Lock()
	c.total = 0
	c.mu.Unlock()
}

func (c *Calc) Concat(parts []string, sep string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += sep
		}
		s += p
	}
	return s
}

func (c *Calc) Fail(msg string) error { return errors.New(msg) }

// Adder exposes part of Calc.
type Adder interface {
	Add(a, b int) int
}

// Greeter has value-receiver methods only.
type Greeter struct{ Greeting string }

func (g Greeter) Greet(name string) string { return g.Greeting + ", " + name }

func TestFunc(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		h, err := fn.HandlerFrom(func(a int, s string) string { return fmt.Sprint(s, a) })
		if err != nil {
			t.Fatal(err)
		}
		cl := serve(t, h, rpc.WithCodec(codec))
		got, err := fn.Call[string](context.Background(), cl, "any selector", 7, "x")
		if err != nil || got != "x7" {
			t.Fatalf("got %q, %v; want %q", got, err, "x7")
		}
	})
}

func TestStructMux(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(codec))
		ctx := context.Background()

		sum, err := fn.Call[int](ctx, cl, "add", 2, 3)
		if err != nil || sum != 5 {
			t.Fatalf("add: %d, %v", sum, err)
		}
		s, err := fn.Call[string](ctx, cl, "concat", []string{"a", "b", "c"}, "-")
		if err != nil || s != "a-b-c" {
			t.Fatalf("concat: %q, %v", s, err)
		}
		for _, n := range []int{1, 2, 3} {
			if _, err := fn.Call[int](ctx, cl, "accumulate", n); err != nil {
				t.Fatal(err)
			}
		}
		if total, err := fn.Call[int](ctx, cl, "accumulate", 0); err != nil || total != 6 {
			t.Fatalf("accumulate: %d, %v; want 6", total, err)
		}
		if err := fn.Invoke(ctx, cl, "reset"); err != nil {
			t.Fatal(err)
		}
		if total, err := fn.Call[int](ctx, cl, "accumulate", 0); err != nil || total != 0 {
			t.Fatalf("after reset: %d, %v; want 0", total, err)
		}
		_, err = fn.Call[int](ctx, cl, "Add", 1, 1)
		wantCode(t, err, rpc.CodeNotFound)
	})
}

func TestSelectorNames(t *testing.T) {
	h, err := fn.HandlerFrom(&Calc{})
	if err != nil {
		t.Fatal(err)
	}
	got := h.(*rpc.RespondMux).Patterns()
	want := []string{"accumulate", "add", "concat", "div", "fail", "reset"}
	if !slices.Equal(got, want) {
		t.Fatalf("patterns %q, want %q", got, want)
	}
}

func TestStructValue(t *testing.T) {
	cl := serve(t, fn.MustHandlerFrom(Greeter{Greeting: "hi"}))
	got, err := fn.Call[string](context.Background(), cl, "greet", "bob")
	if err != nil || got != "hi, bob" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestMultipleResults(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(codec))
		ctx := context.Background()
		var q, r int
		if err := fn.CallInto(ctx, cl, "div", []any{17, 5}, &q, &r); err != nil || q != 3 || r != 2 {
			t.Fatalf("div: %d, %d, %v; want 3, 2", q, r, err)
		}
		// The results are an array on the wire.
		qr, err := fn.Call[[]int](ctx, cl, "div", 9, 2)
		if err != nil || !slices.Equal(qr, []int{4, 1}) {
			t.Fatalf("div as a slice: %v, %v", qr, err)
		}
		// Too few pointers.
		var a, b, c int
		err = fn.CallInto(ctx, cl, "div", []any{9, 2}, &a, &b, &c)
		if err == nil || rpc.CodeOf(err) != rpc.CodeInvalidArgument {
			t.Fatalf("three pointers for two results: %v", err)
		}
	})
}

func TestNoResults(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(codec))
		ctx := context.Background()
		if err := fn.Invoke(ctx, cl, "reset"); err != nil {
			t.Fatal(err)
		}
		v, err := fn.Call[any](ctx, cl, "reset")
		if err != nil || v != nil {
			t.Fatalf("reply of a func without results: %v, %v; want nil", v, err)
		}
		if err := fn.CallInto(ctx, cl, "reset", nil); err != nil {
			t.Fatal(err)
		}
		// Discarding the results of a func that has some.
		if err := fn.Invoke(ctx, cl, "div", 1, 1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestErrorResult(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(codec))
		ctx := context.Background()

		var q, r int
		err := fn.CallInto(ctx, cl, "div", []any{1, 0}, &q, &r)
		wantCode(t, err, rpc.CodeOutOfRange, "division of 1 by zero")
		if !errors.Is(err, &rpc.Error{Code: rpc.CodeOutOfRange}) {
			t.Fatalf("errors.Is(%v, out of range) is false", err)
		}

		err = fn.Invoke(ctx, cl, "fail", "it broke")
		wantCode(t, err, rpc.CodeUnknown, "it broke")
		// A non-nil error with an empty message is still an error.
		err = fn.Invoke(ctx, cl, "fail", "")
		wantCode(t, err, rpc.CodeUnknown)
	})
}

func TestContextParameter(t *testing.T) {
	deadlines := make(chan bool, 1)
	started := make(chan struct{})
	m := rpc.NewRespondMux()
	m.Handle("deadline", fn.MustHandlerFrom(func(ctx context.Context) {
		_, ok := ctx.Deadline()
		deadlines <- ok
	}))
	m.Handle("block", fn.MustHandlerFrom(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}))
	cl := serve(t, m)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fn.Invoke(ctx, cl, "deadline"); err != nil {
		t.Fatal(err)
	}
	if !<-deadlines {
		t.Fatal("the func's context has no deadline")
	}

	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- fn.Invoke(ctx, cl, "block") }()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestHandlerForRestrictsMethods(t *testing.T) {
	h, err := fn.HandlerFor[Adder](&Calc{})
	if err != nil {
		t.Fatal(err)
	}
	cl := serve(t, h)
	ctx := context.Background()
	if sum, err := fn.Call[int](ctx, cl, "add", 1, 2); err != nil || sum != 3 {
		t.Fatalf("add: %d, %v", sum, err)
	}
	err = fn.Invoke(ctx, cl, "reset")
	wantCode(t, err, rpc.CodeNotFound)
	if !errors.Is(err, rpc.ErrNotFound) {
		t.Fatalf("got %v, want rpc.ErrNotFound", err)
	}
}

func TestNestedMux(t *testing.T) {
	m := rpc.NewRespondMux()
	m.Handle("calc.", fn.MustHandlerFrom(&Calc{}))
	m.Handle("greeter/", fn.MustHandlerFrom(Greeter{Greeting: "hello"}))
	cl := serve(t, m)
	ctx := context.Background()
	if sum, err := fn.Call[int](ctx, cl, "calc.add", 1, 2); err != nil || sum != 3 {
		t.Fatalf("calc.add: %d, %v", sum, err)
	}
	if s, err := fn.Call[string](ctx, cl, "greeter/greet", "ann"); err != nil || s != "hello, ann" {
		t.Fatalf("greeter/greet: %q, %v", s, err)
	}
}

func TestArgumentErrors(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(codec))
		ctx := context.Background()
		tests := []struct {
			name  string
			sel   string
			args  []any
			parts []string
		}{
			{"too many", "add", []any{1, 2, 3}, []string{"expects 2 arguments (int, int), got 3"}},
			{"too few", "add", []any{1}, []string{"expects 2 arguments", "got 1"}},
			{"none", "add", nil, []string{"got 0"}},
			{"some for none", "reset", []any{1}, []string{"expects 0 arguments, got 1"}},
			{"first type", "add", []any{"one", 2}, []string{"argument 0 (int)"}},
			{"second type", "add", []any{1, "two"}, []string{"argument 1 (int)"}},
			{"slice type", "concat", []any{"a", "-"}, []string{"argument 0 ([]string)"}},
			{"after context", "accumulate", []any{true}, []string{"argument 0 (int)"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := fn.Call[any](ctx, cl, tt.sel, tt.args...)
				wantCode(t, err, rpc.CodeInvalidArgument, tt.parts...)
				if !errors.Is(err, rpc.ErrInvalidArgument) {
					t.Fatalf("got %v, want rpc.ErrInvalidArgument", err)
				}
			})
		}
	})
}

func TestArgumentsNotAnArray(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(codec))
		ctx := context.Background()
		// A plain rpc call with a scalar for arguments.
		_, err := cl.Call(ctx, "add", 5, nil)
		wantCode(t, err, rpc.CodeInvalidArgument, "not a "+codec.Name()+" array")
		// Null is an empty array.
		if _, err := cl.Call(ctx, "reset", nil, nil); err != nil {
			t.Fatalf("null arguments for a func without parameters: %v", err)
		}
		var sum int
		if _, err := cl.Call(ctx, "add", []int{4, 5}, &sum); err != nil || sum != 9 {
			t.Fatalf("plain rpc call: %d, %v", sum, err)
		}
	})
}

func TestCodecWithoutArrays(t *testing.T) {
	cl := serve(t, fn.MustHandlerFrom(&Calc{}), rpc.WithCodec(plainCodec{}))
	_, err := fn.Call[int](context.Background(), cl, "add", 1, 2)
	wantCode(t, err, rpc.CodeUnimplemented, "fntest-plain")
}

func TestPanicPropagates(t *testing.T) {
	m := rpc.NewRespondMux()
	m.Handle("boom", fn.MustHandlerFrom(func() int { panic("boom") }))
	m.Handle("ok", fn.MustHandlerFrom(func() int { return 1 }))
	cl := serve(t, m)
	ctx := context.Background()
	_, err := fn.Call[int](ctx, cl, "boom")
	wantCode(t, err, rpc.CodeInternal, "boom")
	if v, err := fn.Call[int](ctx, cl, "ok"); err != nil || v != 1 {
		t.Fatalf("after a panic: %d, %v", v, err)
	}
}

func TestAnyAndStructs(t *testing.T) {
	type Point struct{ X, Y int }
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		h := fn.MustHandlerFrom(func(p Point, label any, scale *int) (Point, string) {
			return Point{p.X * *scale, p.Y * *scale}, fmt.Sprint(label)
		})
		cl := serve(t, h, rpc.WithCodec(codec))
		var p Point
		var label string
		err := fn.CallInto(context.Background(), cl, "scale", []any{Point{1, 2}, "hi", 3}, &p, &label)
		if err != nil || p != (Point{3, 6}) || label != "hi" {
			t.Fatalf("got %v, %q, %v", p, label, err)
		}
	})
}

type badMethod struct{}

func (badMethod) Good() int        { return 0 }
func (badMethod) Bad(f func()) int { return 0 }

type pointerOnly struct{}

func (*pointerOnly) M() {}

type notServable interface {
	Take(ch chan int)
}

type taker struct{}

func (taker) Take(ch chan int) {}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"int", 42},
		{"nil func", (func())(nil)},
		{"nil pointer", (*Calc)(nil)},
		{"variadic", func(xs ...int) {}},
		{"chan parameter", func(ch chan int) {}},
		{"func parameter", func(f func()) {}},
		{"interface parameter", func(s fmt.Stringer) {}},
		{"late context", func(n int, ctx context.Context) {}},
		{"error first", func() (error, int) { return nil, 0 }},
		{"two errors", func() (error, error) { return nil, nil }},
		{"func result", func() func() { return nil }},
		{"send-only channel", func() chan<- int { return nil }},
		{"channel and value", func() (<-chan int, int) { return nil, 0 }},
		{"no methods", struct{}{}},
		{"pointer methods of a value", pointerOnly{}},
		{"a bad method", badMethod{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := fn.HandlerFrom(tt.v)
			if !errors.Is(err, fn.ErrUnsupported) || h != nil {
				t.Fatalf("got %v, %v; want an ErrUnsupported error", h, err)
			}
		})
	}
	if _, err := fn.HandlerFor[Calc](Calc{}); !errors.Is(err, fn.ErrUnsupported) {
		t.Fatalf("HandlerFor a struct type: %v", err)
	}
	if _, err := fn.HandlerFor[Adder](nil); !errors.Is(err, fn.ErrUnsupported) {
		t.Fatalf("HandlerFor a nil value: %v", err)
	}
	if _, err := fn.HandlerFor[notServable](taker{}); !errors.Is(err, fn.ErrUnsupported) {
		t.Fatalf("HandlerFor with a bad method: %v", err)
	}
}

func TestMustHandlerFromPanics(t *testing.T) {
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, fn.ErrUnsupported) {
			t.Fatalf("recovered %v, want an ErrUnsupported error", err)
		}
	}()
	fn.MustHandlerFrom(42)
}
