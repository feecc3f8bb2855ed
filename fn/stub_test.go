package fn_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// calcStub is a client of Calc served under "calc.".
type calcStub struct {
	Add        func(a, b int) (int, error)
	Accumulate func(ctx context.Context, n int) (int, error)
	Div        func(ctx context.Context, a, b int) (q, r int, err error)
	Clear      func() error                                     `fn:"reset"`
	Join       func(parts []string, sep string) (string, error) `fn:"concat"`
	Fail       func(msg string) error
	Local      func() int `fn:"-"`
	unexported func()
}

func calcClient(t *testing.T, opts ...rpc.ClientOption) *rpc.Client {
	m := rpc.NewRespondMux()
	m.Handle("calc.", fn.MustHandlerFrom(&Calc{}))
	return serve(t, m, opts...)
}

func TestStub(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		var calc calcStub
		if err := fn.Stub(calcClient(t, rpc.WithCodec(codec)), &calc, "calc."); err != nil {
			t.Fatal(err)
		}
		if calc.Local != nil || calc.unexported != nil {
			t.Fatal("Stub set a field it should leave alone")
		}
		ctx := context.Background()

		if sum, err := calc.Add(2, 3); err != nil || sum != 5 {
			t.Fatalf("Add: %d, %v", sum, err)
		}
		if _, err := calc.Accumulate(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if total, err := calc.Accumulate(ctx, 5); err != nil || total != 9 {
			t.Fatalf("Accumulate: %d, %v; want 9", total, err)
		}
		if err := calc.Clear(); err != nil {
			t.Fatal(err)
		}
		if total, err := calc.Accumulate(ctx, 0); err != nil || total != 0 {
			t.Fatalf("after Clear: %d, %v; want 0", total, err)
		}
		if q, r, err := calc.Div(ctx, 7, 2); err != nil || q != 3 || r != 1 {
			t.Fatalf("Div: %d, %d, %v", q, r, err)
		}
		if s, err := calc.Join([]string{"x", "y"}, "+"); err != nil || s != "x+y" {
			t.Fatalf("Join: %q, %v", s, err)
		}

		q, r, err := calc.Div(ctx, 7, 0)
		wantCode(t, err, rpc.CodeOutOfRange, "by zero")
		if q != 0 || r != 0 {
			t.Fatalf("results with an error: %d, %d; want zeros", q, r)
		}
		err = calc.Fail("nope")
		wantCode(t, err, rpc.CodeUnknown, "nope")
	})
}

func TestStubContext(t *testing.T) {
	started := make(chan struct{})
	cl := serve(t, fn.MustHandlerFrom(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}))
	var s struct {
		Wait func(context.Context) error
	}
	if err := fn.Stub(cl, &s, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Wait(ctx) }()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestStubWrongArguments(t *testing.T) {
	var s struct {
		Add func(a string) (int, error)
	}
	if err := fn.Stub(calcClient(t), &s, "calc."); err != nil {
		t.Fatal(err)
	}
	_, err := s.Add("x")
	wantCode(t, err, rpc.CodeInvalidArgument, "expects 2 arguments")
}

func TestStubUnsupported(t *testing.T) {
	cl := calcClient(t)
	tests := []struct {
		name string
		ptr  any
	}{
		{"nil", nil},
		{"struct value", struct{ F func() error }{}},
		{"nil pointer", (*calcStub)(nil)},
		{"pointer to int", new(int)},
		{"not a func", &struct{ N int }{}},
		{"no error", &struct{ F func() int }{}},
		{"no results", &struct{ F func() }{}},
		{"error not last", &struct{ F func() (error, int) }{}},
		{"variadic", &struct{ F func(...int) error }{}},
		{"func parameter", &struct{ F func(func()) error }{}},
		{"channel result", &struct{ F func() (<-chan int, error) }{}},
		{"interface result", &struct{ F func() (fmt.Stringer, error) }{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fn.Stub(cl, tt.ptr, ""); !errors.Is(err, fn.ErrUnsupported) {
				t.Fatalf("got %v, want an ErrUnsupported error", err)
			}
		})
	}

	// A failing Stub sets no field.
	var partial struct {
		Add func(a, b int) (int, error)
		Bad func()
	}
	if err := fn.Stub(cl, &partial, "calc."); err == nil || partial.Add != nil {
		t.Fatalf("got %v with Add set: %v", err, partial.Add != nil)
	}
}
