package fn_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// upTo returns a buffered channel of 0..n-1, closed: a producer without a
// goroutine, which needs no context.
func upTo(n int) <-chan int {
	ch := make(chan int, n)
	for i := range n {
		ch <- i
	}
	close(ch)
	return ch
}

// counter produces from, from+1, ... until its context ends, then closes
// stopped.
type counter struct{ stopped chan struct{} }

func (c *counter) Count(ctx context.Context, from int) (<-chan int, error) {
	if from < 0 {
		return nil, rpc.Errorf(rpc.CodeInvalidArgument, "negative start %d", from)
	}
	ch := make(chan int)
	go func() {
		defer close(c.stopped)
		defer close(ch)
		for i := from; ; i++ {
			select {
			case ch <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// waitStopped fails t unless the producer stops within a generous bound: a
// producer that never stops would otherwise hang the test.
func waitStopped(t *testing.T, stopped <-chan struct{}) {
	t.Helper()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the producer did not stop")
	}
}

func TestStream(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		cl := serve(t, fn.MustHandlerFrom(upTo), rpc.WithCodec(codec))
		var got []int
		for v, err := range fn.Stream[int](context.Background(), cl, "upTo", 5) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

func TestStreamNilChannel(t *testing.T) {
	cl := serve(t, fn.MustHandlerFrom(func() chan string { return nil }))
	for v, err := range fn.Stream[string](context.Background(), cl, "nil") {
		t.Fatalf("an empty stream yielded %q, %v", v, err)
	}
}

func TestStreamBreakStopsProducer(t *testing.T) {
	c := &counter{stopped: make(chan struct{})}
	cl := serve(t, fn.MustHandlerFrom(c))
	var got []int
	for v, err := range fn.Stream[int](context.Background(), cl, "count", 10) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, v); len(got) == 3 {
			break
		}
	}
	if want := []int{10, 11, 12}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	waitStopped(t, c.stopped)
}

func TestStreamCancelStopsProducer(t *testing.T) {
	forCodecs(t, func(t *testing.T, codec rpc.Codec) {
		c := &counter{stopped: make(chan struct{})}
		cl := serve(t, fn.MustHandlerFrom(c), rpc.WithCodec(codec))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		var last error
		for _, err := range fn.Stream[int](ctx, cl, "count", 0) {
			if err != nil {
				last = err
				continue // the sequence ends after an error
			}
			if n++; n == 3 {
				cancel()
			}
		}
		if !errors.Is(last, context.Canceled) || rpc.CodeOf(last) != rpc.CodeCanceled {
			t.Fatalf("the stream ended with %v, want context.Canceled", last)
		}
		waitStopped(t, c.stopped)
	})
}

func TestStreamErrors(t *testing.T) {
	c := &counter{stopped: make(chan struct{})}
	m := rpc.NewRespondMux()
	m.Handle("count", fn.MustHandlerFrom(c))
	m.Handle("add", fn.MustHandlerFrom((&Calc{}).Add))
	cl := serve(t, m)
	ctx := context.Background()

	// The func's error, before any value.
	var errs []error
	for _, err := range fn.Stream[int](ctx, cl, "count", -1) {
		errs = append(errs, err)
	}
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1", len(errs))
	}
	wantCode(t, errs[0], rpc.CodeInvalidArgument, "negative start -1")

	// A func that does not stream.
	for _, err := range fn.Stream[int](ctx, cl, "add", 1, 2) {
		if !errors.Is(err, fn.ErrNotStream) {
			t.Fatalf("got %v, want ErrNotStream", err)
		}
	}

	// Call on a stream.
	cl2 := serve(t, fn.MustHandlerFrom(upTo))
	if _, err := fn.Call[int](ctx, cl2, "upTo", 3); !errors.Is(err, fn.ErrStream) {
		t.Fatalf("got %v, want ErrStream", err)
	}
}
