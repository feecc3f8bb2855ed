package fn_test

import (
	"context"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// The cost of fn over a plain rpc handler and call, for the same echo of a
// 64-byte string.

func BenchmarkCall(b *testing.B) {
	m := rpc.NewRespondMux()
	m.HandleFunc("raw", func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return(s)
	})
	m.Handle("fn", fn.MustHandlerFrom(func(s string) string { return s }))
	m.Handle("fn2", fn.MustHandlerFrom(func(ctx context.Context, s string, n int) (string, int, error) { return s, n, nil }))
	cl := serve(b, m)
	payload := string(make([]byte, 64))
	ctx := context.Background()

	b.Run("rpc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s string
			if _, err := cl.Call(ctx, "raw", payload, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fn.Call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fn.Call[string](ctx, cl, "fn", payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fn.CallInto2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s string
			var n int
			if err := fn.CallInto(ctx, cl, "fn2", []any{payload, 7}, &s, &n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fn.Stub", func(b *testing.B) {
		var stub struct {
			Fn func(string) (string, error)
		}
		if err := fn.Stub(cl, &stub, ""); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stub.Fn(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
