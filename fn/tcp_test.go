package fn_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// The same calls over loopback TCP, concurrently.

func TestTCP(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		m := rpc.NewRespondMux()
		m.Handle("calc.", fn.MustHandlerFrom(&Calc{}))
		m.Handle("upTo", fn.MustHandlerFrom(upTo))
		cl := serveTCP(t, m, rpc.WithCodec(codec))
		ctx := context.Background()

		var calc calcStub
		if err := fn.Stub(cl, &calc, "calc."); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3*16)
		for i := range 16 {
			wg.Go(func() {
				sum, err := fn.Call[int](ctx, cl, "calc.add", i, i)
				if err == nil && sum != 2*i {
					err = rpc.Errorf(rpc.CodeInternal, "add(%d, %d) = %d", i, i, sum)
				}
				errs <- err
				q, r, err := calc.Div(ctx, i, 3)
				if err == nil && (q != i/3 || r != i%3) {
					err = rpc.Errorf(rpc.CodeInternal, "div(%d, 3) = %d, %d", i, q, r)
				}
				errs <- err
				var got []int
				for v, err := range fn.Stream[int](ctx, cl, "upTo", i) {
					if err != nil {
						errs <- err
						return
					}
					got = append(got, v)
				}
				if len(got) != i || !slices.IsSorted(got) {
					err = rpc.Errorf(rpc.CodeInternal, "upTo(%d) = %v", i, got)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}

		_, _, err := calc.Div(ctx, 1, 0)
		wantCode(t, err, rpc.CodeOutOfRange)
		_, err = fn.Call[int](ctx, cl, "calc.add", 1)
		wantCode(t, err, rpc.CodeInvalidArgument, "expects 2 arguments")
	})
}
