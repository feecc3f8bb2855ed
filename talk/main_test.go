package talk_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// childEnv, when set, makes the test binary run as the child of an exec
// test instead of running the tests (see runChild). Its value is the role:
//
//	serve  dial stdio:, call parent.ready, then serve child.* until the
//	       session ends or child.exit asks to exit
//	exit3  exit with status 3 at once
const childEnv = "QTALK_TALK_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}

// runChild plays role and returns the exit status. It must not write to
// stdout, which carries the session.
func runChild(role string) int {
	switch role {
	case "serve":
		return serveChild()
	case "exit3":
		return 3
	}
	return 100
}

// serveChild serves the child's handlers over stdio:
//
//	child.add [a, b]  returns a+b
//	child.greet name  calls parent.greet with name and returns
//	                  "child got: " and the parent's answer
//	child.exit code   answers, waits until the parent has the answer, and
//	                  exits with code
func serveChild() int {
	ctx := context.Background()
	p, err := talk.Dial(ctx, "stdio:")
	if err != nil {
		return 101
	}
	exit := make(chan int, 1)
	p.HandleFunc("child.add", func(r rpc.Responder, c *rpc.Call) {
		var xs [2]int
		if err := c.Receive(&xs); err != nil {
			r.Error(err)
			return
		}
		r.Return(xs[0] + xs[1])
	})
	p.HandleFunc("child.greet", func(r rpc.Responder, c *rpc.Call) {
		var name, greeting string
		if err := c.Receive(&name); err != nil {
			r.Error(err)
			return
		}
		if _, err := c.Caller.Call(c.Context(), "parent.greet", name, &greeting); err != nil {
			r.Error(err)
			return
		}
		r.Return("child got: " + greeting)
	})
	p.HandleFunc("child.exit", func(r rpc.Responder, c *rpc.Call) {
		var code int
		if err := c.Receive(&code); err != nil {
			r.Error(err)
			return
		}
		r.Return(nil)
		// The parent closes the call once it has read the answer, which
		// cancels the context: exiting earlier could lose the answer.
		<-c.Context().Done()
		exit <- code
	})
	// The child calls first: the parent serves while it calls.
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	_, err = p.Call(cctx, "parent.ready", os.Getpid(), nil)
	cancel()
	if err != nil {
		return 102
	}
	select {
	case code := <-exit:
		return code // without Close, which would not flush queued data either
	case <-p.Context().Done():
		p.Close()
		return 0
	}
}
