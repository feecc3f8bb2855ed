package talk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// childAddr is the exec address of this test binary, which plays a child
// role (see runChild) instead of running tests.
func childAddr() string { return "exec:'" + os.Args[0] + "' -test.run=^$" }

// dialChild starts this test binary as a child playing role, serving h to
// it, and returns the parent's peer.
func dialChild(t *testing.T, role string, h rpc.Handler) *talk.Peer {
	t.Helper()
	t.Setenv(childEnv, role)                // inherited by the child
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child exits at once
	p, err := talk.Dial(callCtx(t), childAddr(), talk.WithHandler(h))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { closePeers(t, p) })
	return p
}

// parentMux serves parent.greet, and parent.ready, which closes ready.
func parentMux(ready chan<- struct{}) *rpc.RespondMux {
	m := rpc.NewRespondMux()
	var once sync.Once
	m.HandleFunc("parent.ready", func(r rpc.Responder, c *rpc.Call) {
		once.Do(func() { close(ready) })
	})
	m.HandleFunc("parent.greet", func(r rpc.Responder, c *rpc.Call) {
		var name string
		if err := c.Receive(&name); err != nil {
			r.Error(err)
			return
		}
		r.Return("hello, " + name)
	})
	return m
}

// The parent and its child call each other over the child's stdio, the
// child's calls to the parent nested in the parent's calls to the child.
func TestExecBothWays(t *testing.T) {
	ready := make(chan struct{})
	p := dialChild(t, "serve", parentMux(ready))
	within(t, "the child's call to parent.ready", func() { <-ready })

	ctx := callCtx(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := callAdd(ctx, p, "child.add", i, 10*i); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			var got string
			if _, err := p.Call(ctx, "child.greet", "parent", &got); err != nil {
				t.Errorf("child.greet: %v", err)
				return
			}
			if want := "child got: hello, parent"; got != want {
				t.Errorf("child.greet = %q, want %q", got, want)
			}
		})
	}
	wg.Wait()

	// Closing the parent's peer kills the child and reaps it.
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := waitErr(t, p); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
}

// The child's exit status reaches the parent's Wait, and calls fail after.
func TestExecExitStatus(t *testing.T) {
	for _, tc := range []struct {
		code int
		want func(error) bool
	}{
		{3, func(err error) bool {
			var exitErr *exec.ExitError
			return errors.As(err, &exitErr) && exitErr.ExitCode() == 3
		}},
		{0, func(err error) bool { return errors.Is(err, io.EOF) }},
	} {
		t.Run(fmt.Sprint("status", tc.code), func(t *testing.T) {
			ready := make(chan struct{})
			p := dialChild(t, "serve", parentMux(ready))
			within(t, "the child's call to parent.ready", func() { <-ready })
			if _, err := p.Call(callCtx(t), "child.exit", tc.code, nil); err != nil {
				t.Fatalf("child.exit: %v", err)
			}
			if err := waitErr(t, p); !tc.want(err) {
				t.Errorf("Wait after exit status %d: %v", tc.code, err)
			}
			checkEnded(t, p, "parent")
		})
	}
}

// A child that exits before talking at all ends the parent's peer too.
func TestExecExitAtOnce(t *testing.T) {
	p := dialChild(t, "exit3", rpc.NewRespondMux())
	err := waitErr(t, p)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("Wait: %v, want an *exec.ExitError with status 3", err)
	}
	if cause := context.Cause(p.Context()); !errors.Is(cause, mux.ErrSessionClosed) || !errors.As(cause, &exitErr) {
		t.Errorf("Context cause %v, want mux.ErrSessionClosed wrapping the exit status", cause)
	}
	_, err = p.Call(callCtx(t), "child.add", [2]int{1, 2}, nil)
	if !errors.As(err, &exitErr) || rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("call after the exit: %v, want CodeUnavailable wrapping the exit status", err)
	}
}
