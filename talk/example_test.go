package talk_test

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// Two peers over an in-memory connection call each other: alice asks bob
// for a greeting, and bob's handler calls alice back for her name while
// her call is in progress.
func Example() {
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	alice := talk.NewPeer(sess1)
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	bob := talk.NewPeer(sess2)
	defer alice.Close()
	defer bob.Close()

	alice.HandleFunc("alice.name", func(r rpc.Responder, c *rpc.Call) {
		r.Return("Alice")
	})
	bob.HandleFunc("bob.greet", func(r rpc.Responder, c *rpc.Call) {
		var name string
		if _, err := c.Caller.Call(c.Context(), "alice.name", nil, &name); err != nil {
			r.Error(err)
			return
		}
		r.Return("Hello, " + name + "!")
	})
	bob.HandleFunc("bob.add", func(r rpc.Responder, c *rpc.Call) {
		var xs []int
		if err := c.Receive(&xs); err != nil {
			r.Error(err)
			return
		}
		sum := 0
		for _, x := range xs {
			sum += x
		}
		r.Return(sum)
	})

	ctx := context.Background()
	var greeting string
	if _, err := alice.Call(ctx, "bob.greet", nil, &greeting); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(greeting)

	var sum int
	if _, err := alice.Call(ctx, "bob.add", []int{1, 2, 3}, &sum); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum)

	// Bob calls Alice directly too.
	var name string
	if _, err := bob.Call(ctx, "alice.name", nil, &name); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name)
	// Output:
	// Hello, Alice!
	// 6
	// Alice
}

// Closing one peer ends the other: its Wait returns, and calls on either
// side fail as unavailable.
func ExamplePeer_Close() {
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	alice := talk.NewPeer(sess1)
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	bob := talk.NewPeer(sess2)
	defer bob.Close()

	alice.Close()
	bob.Wait() // returns once alice's close reached bob

	_, err = bob.Call(context.Background(), "alice.name", nil, nil)
	fmt.Println(rpc.CodeOf(err))
	_, err = alice.Call(context.Background(), "bob.name", nil, nil)
	fmt.Println(rpc.CodeOf(err))
	// Output:
	// unavailable
	// unavailable
}

// A mux given with WithHandler is served as is, so the handlers can be
// registered before the peer starts serving, and shared by many peers.
func ExampleWithHandler() {
	m := rpc.NewRespondMux()
	m.HandleFunc("math.double", func(r rpc.Responder, c *rpc.Call) {
		var x int
		if err := c.Receive(&x); err != nil {
			r.Error(err)
			return
		}
		r.Return(2 * x)
	})

	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	server := talk.NewPeer(sess1, talk.WithHandler(m))
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	client := talk.NewPeer(sess2, talk.WithClientOptions(rpc.WithCodec(rpc.JSON)))
	defer server.Close()
	defer client.Close()

	var y int
	if _, err := client.Call(context.Background(), "math.double", 21, &y); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y, server.Mux() == m)
	// Output: 42 true
}

// Every peer answers qtalk:ping, whatever it serves: Ping measures the
// round trip of a payload of a chosen size.
func ExamplePeer_Ping() {
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	a := talk.NewPeer(sess1)
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	b := talk.NewPeer(sess2)
	defer a.Close()
	defer b.Close()

	rtt, err := a.Ping(context.Background(), 1024)
	fmt.Println(rtt > 0, err)
	// Output: true <nil>
}
