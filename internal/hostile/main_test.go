package hostile_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// childEnv, when set, makes the test binary run as a server child instead
// of running the tests; its value is the role:
//
//	fdlimit  serve echo on tcp://127.0.0.1:0 with RLIMIT_NOFILE lowered to
//	         childFiles, print the address, and exit 3 if Accept ever fails
const childEnv = "QTALK_HOSTILE_CHILD"

// childFiles is the child's file-descriptor limit: a few dozen
// connections exhaust it.
const childFiles = 48

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	goleak.VerifyTestMain(m)
}

func runChild(role string) int {
	if role != "fdlimit" {
		return 2
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 4
	}
	lim.Cur = childFiles
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 5
	}
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "tcp://127.0.0.1:0", transport.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	if err != nil {
		return 6
	}
	fmt.Println(ln.Addr().String())
	srv := &rpc.Server{Handler: rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		var v any
		if err := c.Receive(&v); err != nil {
			r.Error(err)
			return
		}
		r.Return(v)
	})}
	for {
		sess, err := ln.Accept(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "accept ended:", err)
			return 3
		}
		go func() {
			srv.ServeSession(sess)
			sess.Close()
		}()
	}
}
