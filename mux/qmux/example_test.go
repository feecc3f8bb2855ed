package qmux_test

import (
	"context"
	"fmt"
	"io"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// Two sessions over an in-memory connection: one side opens a channel,
// the other accepts it and echoes what it reads.
func Example() {
	c1, c2 := pipe.New()
	client, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	server, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	defer client.Close()
	defer server.Close()

	go func() {
		ch, err := server.Accept(context.Background())
		if err != nil {
			return
		}
		defer ch.Close()
		io.Copy(ch, ch) // echo until the client's CloseWrite
	}()

	ch, err := client.Open(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ch.Close()
	ch.Write([]byte("hello, qmux"))
	ch.CloseWrite()
	reply, _ := io.ReadAll(ch)
	fmt.Println(string(reply))
	// Output: hello, qmux
}

// OpenEarly returns before the peer has answered: the request written at
// once leaves as soon as the peer confirms the channel, with no round trip
// spent in Open. A refusal would show in the Read instead.
func ExampleSession_OpenEarly() {
	c1, c2 := pipe.New()
	client, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	server, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	defer client.Close()
	defer server.Close()

	go func() {
		ch, err := server.Accept(context.Background())
		if err != nil {
			return
		}
		defer ch.Close()
		request, _ := io.ReadAll(ch)
		fmt.Fprintf(ch, "got %q", request)
	}()

	ch, err := client.OpenEarly(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ch.Close()
	ch.Write([]byte("ping"))
	ch.CloseWrite()
	reply, err := io.ReadAll(ch)
	fmt.Println(string(reply), err)
	// Output: got "ping" <nil>
}
