package hostile_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A goodClient calls a server all along an attack, one call after the
// other, and counts what failed: the rows assert that the attack costs
// the good client nothing.
type goodClient struct {
	calls, failures atomic.Int64
	lastFailure     atomic.Value  // string
	firstCall       chan struct{} // closed once a call has returned
	firstOnce       sync.Once
	done            chan struct{} // closed when the loop ends
}

// startGoodClient calls call(ctx, i), expecting i back, until ctx ends.
func startGoodClient(ctx context.Context, call func(ctx context.Context, i int) (int, error)) *goodClient {
	g := &goodClient{firstCall: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(g.done)
		for i := 0; ctx.Err() == nil; i++ {
			callCtx, stop := context.WithTimeout(ctx, 20*time.Second)
			got, err := call(callCtx, i)
			stop()
			if ctx.Err() != nil {
				return
			}
			g.calls.Add(1)
			g.firstOnce.Do(func() { close(g.firstCall) })
			if err != nil || got != i {
				g.failures.Add(1)
				g.lastFailure.Store(fmt.Sprintf("%v (got %d, want %d)", err, got, i))
			}
		}
	}()
	return g
}

// check, once the loop has ended, fails t if a call failed or none was made.
func (g *goodClient) check(t *testing.T) {
	t.Helper()
	<-g.done
	if n := g.failures.Load(); n > 0 {
		t.Errorf("%d of the good client's %d calls failed, the last with %v", n, g.calls.Load(), g.lastFailure.Load())
	}
	if g.calls.Load() == 0 {
		t.Error("the good client made no call during the attack")
	}
}
