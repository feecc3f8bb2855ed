package service_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// An upstream that accepts and drops every connection at once is
// redialed after growing waits, not in a loop: the backoff does not start
// over on a connect that did not last.
func TestRedialBacksOffAfterInstantDrop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan time.Time, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			select {
			case accepted <- time.Now():
			default:
			}
		}
	}()
	gw, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "40ms"
reconnect_max = "10s"
[services]
drop = { provider = "tcp://`+ln.Addr().String()+`", breaker = { failures = 0 } }
`)
	p := dial(t, addrOf(gw))
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil { // calls keep the pool busy; they fail, as unavailable
			p.Call(ctx, "drop:x", nil, nil)
		}
	}()
	defer func() { cancel(); <-done }()
	const dials = 4
	var at [dials]time.Time
	for i := range at {
		select {
		case at[i] = <-accepted:
		case <-testCtx(t).Done():
			t.Fatalf("%d dials, want %d", i, dials)
		}
	}
	// Waits of 40, 80, 160 ms less 20% jitter at least; a machine that is
	// slow only makes them longer.
	if min := time.Duration(0.8 * float64(280*time.Millisecond)); at[dials-1].Sub(at[0]) < min {
		t.Errorf("%d dials in %s, want at least %s between the first and the last", dials, at[dials-1].Sub(at[0]), min)
	}
	_, err = call(t, p, "drop:x", nil)
	checkCode(t, "drop:x", err, rpc.CodeUnavailable)
}
