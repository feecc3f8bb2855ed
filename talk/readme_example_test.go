package talk_test

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// A server and a client over TCP: a plain call, a call during which the
// server calls the client back, and a streaming call. (The README shows
// this example.)
func Example_clientAndServer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	server := rpc.NewRespondMux()
	server.Handle("add", fn.MustHandlerFrom(func(a, b int) int { return a + b }))
	server.Handle("countdown", fn.MustHandlerFrom(func(ctx context.Context, n int) <-chan int {
		ch := make(chan int)
		go func() {
			defer close(ch)
			for i := n; i > 0; i-- {
				select {
				case ch <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}))
	server.HandleFunc("greet", func(r rpc.Responder, c *rpc.Call) {
		var name string
		if err := c.ReceiveArgs(&name); err != nil {
			r.Error(err)
			return
		}
		title, err := fn.Call[string](c.Context(), c.Caller, "title", name) // calls the client back
		if err != nil {
			r.Error(err)
			return
		}
		r.Return("hello, " + title + " " + name)
	})
	ln, err := talk.Listen(ctx, "tcp://127.0.0.1:0", talk.WithHandler(server))
	if err != nil {
		fmt.Println(err)
		return
	}
	go ln.Serve(ctx, nil)

	client := rpc.NewRespondMux() // what the client serves to the server
	client.Handle("title", fn.MustHandlerFrom(func(name string) string { return "Dr." }))
	peer, err := talk.Dial(ctx, "tcp://"+ln.Addr().String(), talk.WithHandler(client))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer peer.Close()

	sum, err := fn.Call[int](ctx, peer.Client(), "add", 2, 3)
	fmt.Println(sum, err)
	greeting, err := fn.Call[string](ctx, peer.Client(), "greet", "Ada")
	fmt.Println(greeting, err)
	for n, err := range fn.Stream[int](ctx, peer.Client(), "countdown", 3) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(n)
	}
	// Output:
	// 5 <nil>
	// hello, Dr. Ada <nil>
	// 3
	// 2
	// 1
}
