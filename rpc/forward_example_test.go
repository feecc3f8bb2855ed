package rpc_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// qmuxPair returns the two ends of a qmux session over an in-memory pipe.
func qmuxPair() (mux.Session, mux.Session) {
	c1, c2 := pipe.New()
	s1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	s2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	return s1, s2
}

// upperMux answers v2.upper with its argument in upper case and the
// selector it was called by.
func upperMux() *rpc.RespondMux {
	m := rpc.NewRespondMux()
	m.HandleFunc("v2.upper", func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return(strings.ToUpper(s) + " (" + c.FullSelector + ")")
	})
	return m
}

// A proxy forwards every call to an upstream under a new selector: the
// upstream sees "v2." and the selector the client called, and its reply
// comes back as it is.
func ExampleForward() {
	toUpstream, upstreamSess := qmuxPair()
	upSrv := &rpc.Server{Handler: upperMux()}
	go upSrv.ServeSession(upstreamSess)

	clientSess, proxySess := qmuxPair()
	proxy := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if err := rpc.Forward(c.Context(), r, c, toUpstream, "v2."+c.Selector); err != nil {
			r.Error(err) // does nothing if Forward answered already
		}
	})}
	go proxy.ServeSession(proxySess)

	client := rpc.NewClient(clientSess)
	var reply string
	if _, err := client.Call(context.Background(), "upper", "hello", &reply); err != nil {
		fmt.Println(err)
	}
	fmt.Println(reply)
	_, err := client.Call(context.Background(), "lower", "hello", nil)
	fmt.Println(rpc.CodeOf(err))

	for _, s := range []interface{ Close() error }{clientSess, proxySess, toUpstream, upstreamSess} {
		s.Close()
	}
	proxy.Shutdown(context.Background())
	upSrv.Shutdown(context.Background())
	// Output:
	// HELLO (v2.upper)
	// not_found
}

// A proxy that forwards many calls to the same upstream does it with a
// client of the upstream, whose channels opened ahead spare each call
// the round trip of an open.
func ExampleClient_Forward() {
	toUpstream, upstreamSess := qmuxPair()
	upSrv := &rpc.Server{Handler: upperMux()}
	go upSrv.ServeSession(upstreamSess)
	upstream := rpc.NewClient(toUpstream)

	clientSess, proxySess := qmuxPair()
	proxy := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if err := upstream.Forward(c.Context(), r, c, "v2."+c.Selector); err != nil {
			r.Error(err)
		}
	})}
	go proxy.ServeSession(proxySess)

	client := rpc.NewClient(clientSess)
	for _, s := range []string{"one", "two"} {
		var reply string
		if _, err := client.Call(context.Background(), "upper", s, &reply); err != nil {
			fmt.Println(err)
		}
		fmt.Println(reply)
	}

	for _, s := range []interface{ Close() error }{clientSess, proxySess, toUpstream, upstreamSess} {
		s.Close()
	}
	proxy.Shutdown(context.Background())
	upSrv.Shutdown(context.Background())
	// Output:
	// ONE (v2.upper)
	// TWO (v2.upper)
}
