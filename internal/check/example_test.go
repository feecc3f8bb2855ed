package check_test

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// A server that serves the protocol under its prefix, checked over an
// in-memory session: the checking side serves the Checker's Handler, for
// the callback case.
func Example() {
	root := rpc.NewRespondMux()
	root.Handle(check.Prefix, check.Handler())
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	server := talk.NewPeer(sess1, talk.WithHandler(root))
	defer server.Close()

	var k check.Checker
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	client := talk.NewPeer(sess2, talk.WithHandler(k.Handler()))
	defer client.Close()

	passed := 0
	results := k.Run(context.Background(), client.Client(), func(r check.Result) {
		if r.Err != nil {
			fmt.Println("FAIL", r.Name, r.Err)
			return
		}
		passed++
	})
	fmt.Printf("%d of %d cases passed\n", passed, len(results))
	// Output: 13 of 13 cases passed
}
