package rpc

import (
	"context"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// With a Session that cannot open early, a channel ahead is opened in the
// background. A call that finds none ahead while that open is under way
// opens its own channel but no other ahead: the one on its way is the
// next call's, and calls one at a time keep one ahead, not two.
func TestOpenAheadCountsOpensUnderWay(t *testing.T) {
	cs, _ := sessionPair(t)
	held := &heldOpens{Session: cs, release: make(chan struct{})}
	t.Cleanup(func() { close(held.release) }) // before the sessions close (cleanups run last first)
	cl := NewClient(held, WithOpenAhead(2))

	ctx := t.Context() // not context.Background(): the calls' own opens are not held
	for i := range 2 {
		ch, pooled, err := cl.channel(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
		if pooled {
			t.Fatalf("call %d took a channel opened ahead, whose open is held", i+1)
		}
		if got := cl.opening.Load(); got != 1 {
			t.Fatalf("after call %d, %d opens ahead under way, want 1", i+1, got)
		}
	}
}

// heldOpens hides its Session's OpenEarly, and holds the opens made in
// the background (with context.Background()) until release is closed.
type heldOpens struct {
	mux.Session
	release chan struct{}
}

func (s *heldOpens) Open(ctx context.Context) (mux.Channel, error) {
	if ctx == context.Background() {
		<-s.release
	}
	return s.Session.Open(ctx)
}
