package fn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// connect serves h on an in-memory session pair and returns a client of
// it and a func that ends both sessions.
func connect(h rpc.Handler) (*rpc.Client, func()) {
	c1, c2 := pipe.New()
	cs, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	ss, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	srv := &rpc.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
	}()
	return rpc.NewClient(cs), func() {
		cs.Close()
		ss.Close()
		<-done
		srv.Shutdown(context.Background())
		cs.Wait()
		ss.Wait()
	}
}

// Strings is a service: each exported method is served.
type Strings struct{}

func (Strings) Upper(s string) string { return strings.ToUpper(s) }

func (Strings) Cut(s, sep string) (before, after string, err error) {
	before, after, ok := strings.Cut(s, sep)
	if !ok {
		return "", "", rpc.Errorf(rpc.CodeNotFound, "%q not in %q", sep, s)
	}
	return before, after, nil
}

// Serving the methods of a struct, and calling them.
func Example() {
	h, err := fn.HandlerFrom(Strings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, stop := connect(h)
	defer stop()
	ctx := context.Background()

	s, err := fn.Call[string](ctx, client, "upper", "hello")
	fmt.Println(s, err)

	var before, after string
	err = fn.CallInto(ctx, client, "cut", []any{"key=value", "="}, &before, &after)
	fmt.Println(before, after, err)

	err = fn.CallInto(ctx, client, "cut", []any{"key", "="}, &before, &after)
	fmt.Println(errors.Is(err, rpc.ErrNotFound))

	_, err = fn.Call[string](ctx, client, "upper", 42)
	fmt.Println(rpc.CodeOf(err))
	// Output:
	// HELLO <nil>
	// key value <nil>
	// true
	// invalid_argument
}

// A struct of funcs calls the methods of a remote service.
func ExampleStub() {
	m := rpc.NewRespondMux()
	m.Handle("strings.", fn.MustHandlerFrom(Strings{}))
	client, stop := connect(m)
	defer stop()

	var remote struct {
		Upper func(ctx context.Context, s string) (string, error)
		Split func(s, sep string) (string, string, error) `fn:"cut"`
	}
	if err := fn.Stub(client, &remote, "strings."); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(remote.Upper(context.Background(), "stub"))
	fmt.Println(remote.Split("a:b", ":"))
	// Output:
	// STUB <nil>
	// a b <nil>
}

// A func that returns a channel streams its values.
func ExampleStream() {
	countdown := func(ctx context.Context, from int) <-chan int {
		ch := make(chan int)
		go func() {
			defer close(ch)
			for i := from; i > 0; i-- {
				select {
				case ch <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}
	client, stop := connect(fn.MustHandlerFrom(countdown))
	defer stop()

	for n, err := range fn.Stream[int](context.Background(), client, "countdown", 3) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(n)
	}
	// Output:
	// 3
	// 2
	// 1
}

// Upperer is the part of Strings to serve.
type Upperer interface {
	Upper(s string) string
}

// HandlerFor serves only the methods of an interface.
func ExampleHandlerFor() {
	h, err := fn.HandlerFor[Upperer](Strings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, stop := connect(h)
	defer stop()
	ctx := context.Background()

	fmt.Println(fn.Call[string](ctx, client, "upper", "ok"))
	err = fn.Invoke(ctx, client, "cut", "a=b", "=")
	fmt.Println(rpc.CodeOf(err))
	// Output:
	// OK <nil>
	// not_found
}
