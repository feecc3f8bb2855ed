package talk_test

import (
	"context"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
)

// A peer sends one-way messages to a func without results served with
// package fn; they arrive in order.
func TestPeerSend(t *testing.T) {
	forEachPair(t, func(t *testing.T, mp makePair) {
		a, b := mp(t, nil, nil)
		got := make(chan string, 3)
		b.Handle("log", fn.MustHandlerFrom(func(ctx context.Context, line string) { got <- line }))
		for _, s := range []string{"one", "two", "three"} {
			if err := a.Send(callCtx(t), "log", []any{s}); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range []string{"one", "two", "three"} {
			select {
			case s := <-got:
				if s != want {
					t.Errorf("got %q, want %q", s, want)
				}
			case <-callCtx(t).Done():
				t.Fatal("a message did not arrive")
			}
		}
	})
}
