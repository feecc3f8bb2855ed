package rpc_test

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/rpc"
)

func ExampleIntercept() {
	// The server refuses calls without the right key in their metadata.
	requireKey := rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			if c.Metadata["key"] != "s3cret" {
				r.Error(rpc.Errorf(rpc.CodeUnauthenticated, "%s needs a key", c.FullSelector))
				return
			}
			next.RespondRPC(r, c)
		})
	})
	hello := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return("hello") })

	// One client adds the key to each call it makes.
	addKey := rpc.ClientInterceptorFunc(func(next rpc.CallFunc) rpc.CallFunc {
		return func(ctx context.Context, call *rpc.OutgoingCall) (*rpc.Response, error) {
			call.Metadata["key"] = "s3cret"
			return next(ctx, call)
		}
	})
	ctx := context.Background()
	for _, opts := range [][]rpc.ClientOption{nil, {rpc.WithInterceptors(addKey)}} {
		client, stop := connect(rpc.Intercept(hello, requireKey), opts...)
		var reply string
		_, err := client.Call(ctx, "greeter:hello", nil, &reply)
		fmt.Printf("%q %v\n", reply, err)
		stop()
	}
	// Output:
	// "" rpc: unauthenticated: greeter:hello needs a key
	// "hello" <nil>
}
