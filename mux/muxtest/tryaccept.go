package muxtest

import (
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testTryAccept checks the mux.TryAccepter contract on sessions that
// implement it: with nothing opened it returns false at once; a channel
// the peer opened it returns once, carrying what the
// peer writes; after the session's Close it returns false, even for a
// channel that was waiting.
func testTryAccept(t *testing.T, a, b mux.Session) {
	ta, ok := b.(mux.TryAccepter)
	if !ok {
		t.Logf("%T is not a mux.TryAccepter: nothing to check", b)
		return
	}
	if c, ok := ta.TryAccept(); ok {
		t.Fatalf("TryAccept with nothing opened returned channel %d", c.ID())
	}
	ctx, cancel := stepContext()
	defer cancel()
	oc, err := a.Open(ctx)
	noErr(t, err, "Open")
	msg := []byte("taken without waiting")
	werr := writeAsync(oc, msg)
	// Over an EarlyOpener, Open may return before the open reaches b.
	var ac mux.Channel
	eventually(t, "TryAccept to return the channel the peer opened", func() bool {
		ac, ok = ta.TryAccept()
		return ok
	})
	checkRead(t, ac, msg, "Read on the channel TryAccept returned")
	noErr(t, recv(t, werr, "Write"), "Write")
	if c, ok := ta.TryAccept(); ok {
		t.Fatalf("TryAccept returned channel %d as well, for one open", c.ID())
	}

	_, err = a.Open(ctx)
	noErr(t, err, "Open")
	noErr(t, b.Close(), "Close")
	if c, ok := ta.TryAccept(); ok {
		t.Errorf("TryAccept returned channel %d after the session's Close", c.ID())
	}
}
