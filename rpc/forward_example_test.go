package rpc_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// A proxy forwards every call to an upstream under a new selector: the
// upstream sees "v2." and the selector the client called, and its reply
// comes back as it is.
func ExampleForward() {
	upstream := rpc.NewRespondMux()
	upstream.HandleFunc("v2.upper", func(r rpc.Responder, c *rpc.Call) {
		var s string
		if err := c.Receive(&s); err != nil {
			r.Error(err)
			return
		}
		r.Return(strings.ToUpper(s) + " (" + c.FullSelector + ")")
	})

	// The proxy's session to the upstream.
	u1, u2 := pipe.New()
	toUpstream, err := qmux.New(u1, nil)
	if err != nil {
		panic(err)
	}
	upstreamSess, err := qmux.New(u2, nil)
	if err != nil {
		panic(err)
	}
	upSrv := &rpc.Server{Handler: upstream}
	go upSrv.ServeSession(upstreamSess)

	// The client's session to the proxy.
	p1, p2 := pipe.New()
	clientSess, err := qmux.New(p1, nil)
	if err != nil {
		panic(err)
	}
	proxySess, err := qmux.New(p2, nil)
	if err != nil {
		panic(err)
	}
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
	_, err = client.Call(context.Background(), "lower", "hello", nil)
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
