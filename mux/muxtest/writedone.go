package muxtest

import (
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testWriteDone checks the mux.WriteDoneChannel contract: a channel's
// WriteDone stays open through the peer's CloseWrite, and closes after
// this side's CloseWrite or Close, the peer's Close and the end of the
// session; once it is closed, Writes fail.
func testWriteDone(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	od, ad := writeDone(t, oc), writeDone(t, ac)
	checkNotDone(t, od, "the opener's WriteDone on a new channel")
	checkNotDone(t, ad, "the acceptor's WriteDone on a new channel")

	noErr(t, ac.CloseWrite(), "CloseWrite")
	recv(t, ad, "WriteDone to close after CloseWrite")
	checkEOF(t, oc, "Read after the peer's CloseWrite")
	checkNotDone(t, od, "WriteDone after the peer's CloseWrite")
	msg := []byte("the peer still reads")
	werr := writeAsync(oc, msg)
	checkRead(t, ac, msg, "Read after own CloseWrite")
	noErr(t, recv(t, werr, "Write after the peer's CloseWrite"), "Write after the peer's CloseWrite")

	noErr(t, ac.Close(), "Close")
	recv(t, od, "WriteDone to close after the peer's Close")
	_, err := oc.Write([]byte("x"))
	checkErr(t, err, "Write once WriteDone is closed", mux.ErrChannelClosed)
	noErr(t, oc.Close(), "Close")

	oc, ac = pair(t, a, b)
	od, ad = writeDone(t, oc), writeDone(t, ac)
	noErr(t, oc.Close(), "Close")
	recv(t, od, "WriteDone to close after Close")
	recv(t, ad, "WriteDone to close after the peer's Close, without CloseWrite")
	noErr(t, ac.Close(), "Close")

	oc, ac = pair(t, a, b)
	od, ad = writeDone(t, oc), writeDone(t, ac)
	noErr(t, a.Close(), "closing the session")
	recv(t, od, "WriteDone to close after its session's Close")
	recv(t, ad, "WriteDone to close once the peer's session ended")
	_, err = ac.Write([]byte("x"))
	if err == nil {
		t.Errorf("Write once WriteDone is closed by the end of the session succeeded")
	}
}

// writeDone returns the WriteDone channel of c, which must be a
// mux.WriteDoneChannel.
func writeDone(t *testing.T, c mux.Channel) <-chan struct{} {
	t.Helper()
	wd, ok := c.(mux.WriteDoneChannel)
	if !ok {
		t.Fatalf("%T is not a mux.WriteDoneChannel", c)
	}
	return wd.WriteDone()
}

// checkNotDone fails the test if done is closed.
func checkNotDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
		t.Errorf("%s is closed; want it open", what)
	default:
	}
}
