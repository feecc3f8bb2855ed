package rpc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
)

// TestBlockedHandlersHoldNoCallBack holds more handlers in their calls at
// once than a session keeps idle goroutines (16), each started after the
// one before it ran, then makes a call beside them: a session must serve
// each new channel on a goroutine of its own while the others are held,
// or that call never runs.
func TestBlockedHandlersHoldNoCallBack(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		const blocked = 40
		release := make(chan struct{})
		running := make(chan struct{}, blocked)
		h := startFunc(t, tc, func(r rpc.Responder, c *rpc.Call) {
			if c.Selector == "block" {
				running <- struct{}{}
				<-release
			}
			r.Return("done")
		})
		// A call nobody accepts waits for its reply until this ends.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, blocked)
		for i := range blocked {
			wg.Go(func() {
				var got string
				if _, err := h.client.Call(ctx, "block", nil, &got); err != nil {
					errs <- fmt.Errorf("blocked call %d: %w", i, err)
				}
			})
			select {
			case <-running: // its handler runs: the next call needs another goroutine
			case err := <-errs:
				close(release)
				t.Fatal(err)
			}
		}
		var got string
		if _, err := h.client.Call(ctx, "free", nil, &got); err != nil || got != "done" {
			t.Errorf("a call beside %d blocked handlers: %q, %v", blocked, got, err)
		}
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
