package muxtest

import (
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// testReadNotify checks the mux.ReadNotifier contract on channels that
// implement it: a notice fires once bytes come (or have come), on the
// peer's CloseWrite and Close, this side's Close and the end of the
// session, not on a read deadline; a stopped or replaced notice never
// fires, and stop reports whether the notice fired.
func testReadNotify(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	if _, ok := ac.(mux.ReadNotifier); !ok {
		t.Logf("%T is not a mux.ReadNotifier: nothing to check", ac)
		return
	}

	fired, stop := notifyRead(ac)
	checkNotFired(t, fired, "a notice on a channel with nothing to read")
	if !stop() {
		t.Errorf("stop of a notice that did not fire returned false")
	}
	checkNotFired(t, fired, "a stopped notice")

	noErr(t, ac.SetReadDeadline(time.Now().Add(-time.Second)), "SetReadDeadline")
	fired, stop = notifyRead(ac)
	if !stop() {
		t.Errorf("a notice fired for a past read deadline")
	}
	checkNotFired(t, fired, "a stopped notice")
	noErr(t, ac.SetReadDeadline(time.Time{}), "SetReadDeadline")

	replaced, stopReplaced := notifyRead(ac)
	fired, stop = notifyRead(ac)
	msg := []byte("wake up")
	werr := writeAsync(oc, msg)
	recv(t, fired, "the notice to fire once bytes came")
	if stop() {
		t.Errorf("stop of a notice that fired returned true")
	}
	if !stopReplaced() {
		t.Errorf("stop of a replaced notice returned false")
	}
	checkNotFired(t, replaced, "a replaced notice")
	noErr(t, recv(t, werr, "Write"), "Write")
	checkRead(t, ac, msg, "Read after the notice")

	// Bytes that came before the notice: it fires at once.
	werr = writeAsync(oc, msg)
	noErr(t, recv(t, werr, "Write"), "Write")
	fired, _ = notifyRead(ac)
	recv(t, fired, "the notice to fire for bytes that came before it, or once they come")
	checkRead(t, ac, msg, "Read after the notice")

	fired, _ = notifyRead(ac)
	noErr(t, oc.CloseWrite(), "CloseWrite")
	recv(t, fired, "the notice to fire on the peer's CloseWrite")
	checkEOF(t, ac, "Read after the peer's CloseWrite")
	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")

	oc, ac = pair(t, a, b)
	fired, _ = notifyRead(ac)
	noErr(t, oc.Close(), "Close")
	recv(t, fired, "the notice to fire on the peer's Close")
	noErr(t, ac.Close(), "Close")

	oc, ac = pair(t, a, b)
	fired, _ = notifyRead(ac)
	noErr(t, ac.Close(), "Close")
	recv(t, fired, "the notice to fire on Close")
	fired, _ = notifyRead(ac)
	recv(t, fired, "a notice on a closed channel to fire at once")

	oc, ac = pair(t, a, b)
	ofired, _ := notifyRead(oc)
	afired, _ := notifyRead(ac)
	noErr(t, a.Close(), "closing the session")
	recv(t, ofired, "the notice to fire on the end of the session")
	recv(t, afired, "the notice to fire once the peer's session ended")
}

// notifyRead sets a notice on c, a mux.ReadNotifier, whose firing sends on
// the returned channel.
func notifyRead(c mux.Channel) (fired <-chan struct{}, stop func() bool) {
	ch := make(chan struct{}, 2) // room for a second call, which would be a bug
	stop = c.(mux.ReadNotifier).NotifyRead(func() { ch <- struct{}{} })
	return ch, stop
}

// checkNotFired fails the test if the notice of fired fired.
func checkNotFired(t *testing.T, fired <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-fired:
		t.Errorf("%s fired", what)
	default:
	}
}
