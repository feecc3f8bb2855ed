package muxtest

import (
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// aLongTimeAgo is a deadline in the past.
var aLongTimeAgo = time.Unix(1, 0)

// testReadDeadline checks read deadlines in the past and the future, one
// set while a Read is pending, and that clearing a deadline makes Read
// work again.
func testReadDeadline(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	roundTrip := func(what string) {
		t.Helper()
		msg := []byte(what)
		noErr(t, recv(t, writeAsync(ac, msg), what+": Write"), what+": Write")
		checkRead(t, oc, msg, what)
	}

	// In the past: Read fails at once.
	noErr(t, oc.SetReadDeadline(aLongTimeAgo), "SetReadDeadline")
	r := await(t, "Read with a past deadline", func() readResult {
		n, err := oc.Read(make([]byte, 8))
		return readResult{n, err}
	})
	if r.n != 0 {
		t.Errorf("Read with a past deadline read %d bytes", r.n)
	}
	checkTimeout(t, r.err, "Read with a past deadline")
	// The deadline does not affect writing, nor the peer.
	msg := []byte("write despite read deadline")
	noErr(t, recv(t, writeAsync(oc, msg), "Write with a past read deadline"), "Write with a past read deadline")
	checkRead(t, ac, msg, "the peer reading")
	noErr(t, oc.SetReadDeadline(time.Time{}), "SetReadDeadline")
	roundTrip("Read after clearing a past deadline")

	// In the future: Read blocks until the deadline.
	deadline := time.Now().Add(100 * time.Millisecond)
	noErr(t, oc.SetReadDeadline(deadline), "SetReadDeadline")
	r = await(t, "Read with a future deadline", func() readResult {
		n, err := oc.Read(make([]byte, 8))
		return readResult{n, err}
	})
	if now := time.Now(); now.Before(deadline) {
		t.Errorf("Read returned %v before its deadline", deadline.Sub(now))
	}
	checkTimeout(t, r.err, "Read with a future deadline")
	noErr(t, oc.SetReadDeadline(time.Now().Add(time.Hour)), "SetReadDeadline")
	roundTrip("Read after extending an expired deadline")

	// Set while a Read is pending: the pending Read fails.
	noErr(t, oc.SetReadDeadline(time.Time{}), "SetReadDeadline")
	pending := readAsync(oc)
	assertBlocked(t, pending, "Read with nothing sent")
	noErr(t, oc.SetReadDeadline(time.Now()), "SetReadDeadline")
	checkTimeout(t, recv(t, pending, "pending Read after its deadline was set").err, "pending Read after its deadline was set")
	noErr(t, oc.SetReadDeadline(time.Time{}), "SetReadDeadline")
	roundTrip("Read after clearing the deadline of a pending Read")

	// SetDeadline covers Read.
	noErr(t, oc.SetDeadline(aLongTimeAgo), "SetDeadline")
	_, err := oc.Read(make([]byte, 8))
	checkTimeout(t, err, "Read after SetDeadline in the past")
	noErr(t, oc.SetDeadline(time.Time{}), "SetDeadline")
	roundTrip("Read after clearing SetDeadline")

	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}

// testWriteDeadline checks a write deadline in the past and one that
// expires while the writer is blocked by flow control, then that the data
// accepted before the timeout and after clearing the deadline all arrive.
func testWriteDeadline(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)

	// In the past: Write fails at once and writes nothing.
	noErr(t, oc.SetWriteDeadline(aLongTimeAgo), "SetWriteDeadline")
	n, err := oc.Write([]byte("never sent"))
	if n != 0 {
		t.Errorf("Write with a past deadline wrote %d bytes", n)
	}
	checkTimeout(t, err, "Write with a past deadline")
	noErr(t, oc.SetWriteDeadline(time.Time{}), "SetWriteDeadline")

	// Blocked by flow control: the deadline ends the Write.
	deadline := time.Now().Add(300 * time.Millisecond)
	noErr(t, oc.SetWriteDeadline(deadline), "SetWriteDeadline")
	w := startPatternWriter(oc, blockLimit)
	err = recv(t, w.done, "Write blocked by flow control to reach its deadline")
	if err == nil {
		t.Fatalf("writer wrote %d bytes although the peer never read: no flow control", w.written.Load())
	}
	if now := time.Now(); now.Before(deadline) {
		t.Errorf("Write returned %v before its deadline", deadline.Sub(now))
	}
	checkTimeout(t, err, "Write blocked by flow control past its deadline")

	// Cleared: writing resumes and every accepted byte arrives, in order.
	noErr(t, oc.SetWriteDeadline(time.Time{}), "SetWriteDeadline")
	type res struct {
		n   int64
		err error
	}
	read := make(chan res, 1)
	go func() {
		n, err := readPattern(ac)
		read <- res{n, err}
	}()
	w.restart(w.written.Load() + 1<<20)
	noErr(t, recv(t, w.done, "writing after clearing the deadline"), "Write after clearing the deadline")
	noErr(t, oc.CloseWrite(), "CloseWrite")
	r := recv(t, read, "the peer reading everything")
	noErr(t, r.err, "the peer reading")
	if r.n != w.written.Load() {
		t.Errorf("the peer read %d bytes, Write accepted %d", r.n, w.written.Load())
	}

	// SetDeadline covers Write.
	noErr(t, ac.SetDeadline(aLongTimeAgo), "SetDeadline")
	_, err = ac.Write([]byte("x"))
	checkTimeout(t, err, "Write after SetDeadline in the past")

	noErr(t, oc.Close(), "Close")
	noErr(t, ac.Close(), "Close")
}
