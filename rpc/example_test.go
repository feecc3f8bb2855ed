package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// connect serves h on one end of an in-memory connection and returns a
// client with opts on the other end, and a function that tears both down.
func connect(h rpc.Handler, opts ...rpc.ClientOption) (*rpc.Client, func()) {
	a, b := pipe.New()
	clientSess, err := qmux.New(a, nil)
	if err != nil {
		panic(err)
	}
	serverSess, err := qmux.New(b, nil)
	if err != nil {
		panic(err)
	}
	srv := &rpc.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(serverSess)
	}()
	return rpc.NewClient(clientSess, opts...), func() {
		clientSess.Close()
		serverSess.Close()
		<-done
		srv.Shutdown(context.Background())
	}
}

func ExampleClient_Call() {
	upper := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return(strings.ToUpper(s))
	})
	client, stop := connect(upper)
	defer stop()

	var reply string
	if _, err := client.Call(context.Background(), "upper", "hello, qtalk", &reply); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply)
	// Output: HELLO, QTALK
}

func ExampleRespondMux() {
	users := rpc.NewRespondMux()
	users.HandleFunc("get", func(r rpc.Responder, c *rpc.Call) {
		var id int
		c.Receive(&id)
		if id != 1 {
			r.Error(rpc.Errorf(rpc.CodeNotFound, "no user %d", id))
			return
		}
		r.Return("ada")
	})
	root := rpc.NewRespondMux()
	root.Handle("users.", users) // a prefix pattern: users.get reaches "get"
	root.HandleFunc("ping", func(r rpc.Responder, c *rpc.Call) { r.Return("pong") })

	client, stop := connect(root)
	defer stop()
	ctx := context.Background()

	var s string
	client.Call(ctx, "ping", nil, &s)
	fmt.Println(s)
	client.Call(ctx, "users.get", 1, &s)
	fmt.Println(s)

	_, err := client.Call(ctx, "users.get", 2, &s)
	fmt.Println(errors.Is(err, rpc.ErrNotFound), err)
	_, err = client.Call(ctx, "users.delete", 1, nil)
	fmt.Println(rpc.CodeOf(err))
	// Output:
	// pong
	// ada
	// true rpc: not_found: no user 2
	// not_found
}

// A server stream: the handler continues the call, sends values and
// returns; the client receives them until io.EOF.
func ExampleResponse_Receive() {
	countdown := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		var n int
		c.Receive(&n)
		if err := r.Continue("counting down"); err != nil {
			return
		}
		for i := n; i > 0; i-- {
			if err := r.Send(i); err != nil {
				return // the client went away
			}
		}
	})
	client, stop := connect(countdown)
	defer stop()

	var header string
	resp, err := client.Call(context.Background(), "countdown", 3, &header)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Close()
	fmt.Println(header)
	for {
		var i int
		err := resp.Receive(&i)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(i)
	}
	fmt.Println("liftoff")
	// Output:
	// counting down
	// 3
	// 2
	// 1
	// liftoff
}
