package muxtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// testHalfClose half-closes a channel from one side, then the other, with
// the opener and then the acceptor going first.
func testHalfClose(t *testing.T, a, b mux.Session) {
	for _, openerFirst := range []bool{true, false} {
		oc, ac := pair(t, a, b)
		first, second := mux.Channel(oc), mux.Channel(ac)
		if !openerFirst {
			first, second = ac, oc
		}
		what := func(s string) string { return fmt.Sprintf("opener first %v: %s", openerFirst, s) }

		msg1, msg2 := patternAt(0, 100<<10), patternAt(7, 100<<10)
		werr := writeAsync(first, msg1)
		checkRead(t, second, msg1, what("reading data written before CloseWrite"))
		noErr(t, recv(t, werr, what("Write")), what("Write"))
		noErr(t, first.CloseWrite(), what("CloseWrite"))
		checkEOF(t, second, what("Read after the peer's CloseWrite"))
		checkEOF(t, second, what("second Read after the peer's CloseWrite"))
		_, err := first.Write([]byte("x"))
		checkErr(t, err, what("Write after CloseWrite"), mux.ErrChannelClosed, net.ErrClosed)

		// The other direction still works.
		werr = writeAsync(second, msg2)
		checkRead(t, first, msg2, what("Read after own CloseWrite"))
		noErr(t, recv(t, werr, what("Write after the peer's CloseWrite")), what("Write after the peer's CloseWrite"))
		noErr(t, second.CloseWrite(), what("CloseWrite"))
		checkEOF(t, first, what("Read after both CloseWrites"))

		noErr(t, first.Close(), what("Close"))
		noErr(t, second.Close(), what("Close"))
	}
}

// testCloseUnblocksRead closes a channel with a Read pending on it.
func testCloseUnblocksRead(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	read := goErr(func() error {
		_, err := oc.Read(make([]byte, 10))
		return err
	})
	assertBlocked(t, read, "Read with nothing sent")
	noErr(t, oc.Close(), "Close")
	checkErr(t, recv(t, read, "pending Read to return after Close"), "pending Read after Close", mux.ErrChannelClosed, net.ErrClosed)

	_, err := oc.Read(make([]byte, 10))
	checkErr(t, err, "Read after Close", mux.ErrChannelClosed)
	_, err = oc.Write([]byte("x"))
	checkErr(t, err, "Write after Close", mux.ErrChannelClosed)
	oc.Close() // a second Close must not panic; its error is unspecified

	checkEOF(t, ac, "Read after the peer's Close")
	checkPeerClosedWrite(t, ac)
	noErr(t, ac.Close(), "Close")
}

// checkPeerClosedWrite checks that Writes on c, whose peer closed it,
// fail with mux.ErrChannelClosed once the close has arrived.
func checkPeerClosedWrite(t *testing.T, c net.Conn) {
	t.Helper()
	var err error
	eventually(t, "Write to fail after the peer's Close", func() bool {
		err = await(t, "Write after the peer's Close", func() error {
			_, err := c.Write([]byte("x"))
			return err
		})
		return err != nil
	})
	checkErr(t, err, "Write after the peer's Close", mux.ErrChannelClosed)
}

// testCloseUnblocksWrite closes a channel whose writer is blocked by flow
// control; the peer reads what was written, then io.EOF.
func testCloseUnblocksWrite(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	w := startPatternWriter(oc, blockLimit)
	w.waitStalled(t)
	noErr(t, oc.Close(), "Close")
	checkErr(t, recv(t, w.done, "blocked Write to return after Close"), "blocked Write after Close", mux.ErrChannelClosed, net.ErrClosed)

	type res struct {
		n   int64
		err error
	}
	r := await(t, "reading to EOF after the peer's Close", func() res {
		n, err := readPattern(ac)
		return res{n, err}
	})
	noErr(t, r.err, "reading after the peer's Close")
	if r.n != w.written.Load() {
		t.Errorf("read %d bytes before EOF, the peer's Writes accepted %d", r.n, w.written.Load())
	}
	noErr(t, ac.Close(), "Close")
}

// testPeerCloseUnblocksWrite closes, without reading, the peer of a channel
// whose writer is blocked by flow control.
func testPeerCloseUnblocksWrite(t *testing.T, a, b mux.Session) {
	oc, ac := pair(t, a, b)
	w := startPatternWriter(oc, blockLimit)
	w.waitStalled(t)
	noErr(t, ac.Close(), "Close")
	checkErr(t, recv(t, w.done, "blocked Write to return after the peer's Close"), "blocked Write after the peer's Close", mux.ErrChannelClosed)
	checkEOF(t, oc, "Read after the peer's Close")
	noErr(t, oc.Close(), "Close")
}

// testCloseDeliversData closes a channel (without CloseWrite) right after
// writing: the peer still reads everything, then io.EOF.
func testCloseDeliversData(t *testing.T, a, b mux.Session) {
	for _, size := range []int{1, 10 << 10, 1 << 20} {
		oc, ac := pair(t, a, b)
		sent := goErr(func() error {
			if _, err := oc.Write(patternAt(0, size)); err != nil {
				return err
			}
			return oc.Close()
		})
		type res struct {
			n   int64
			err error
		}
		r := await(t, "reading to EOF", func() res {
			n, err := readPattern(ac)
			return res{n, err}
		})
		noErr(t, recv(t, sent, "Write and Close"), "Write and Close")
		noErr(t, r.err, fmt.Sprintf("reading %d bytes written before Close", size))
		if r.n != int64(size) {
			t.Errorf("read %d bytes before EOF, %d were written before Close", r.n, size)
		}
		noErr(t, ac.Close(), "Close")
	}
}

// openErr opens a channel on s, closes it if that worked, and returns the
// error of Open.
func openErr(s mux.Session) error {
	c, err := s.Open(context.Background())
	if err == nil {
		c.Close()
	}
	return err
}

// acceptErr is openErr for Accept.
func acceptErr(s mux.Session) error {
	c, err := s.Accept(context.Background())
	if err == nil {
		c.Close()
	}
	return err
}

// testSessionClose closes session a with operations pending on both
// sides, and checks how they fail and that both sessions end.
func testSessionClose(t *testing.T, a, b mux.Session, o Options) {
	waitA := goErr(a.Wait)
	waitB := goErr(b.Wait)

	// Channels with a Read pending on each side, and one whose writer on a
	// is blocked by flow control.
	ra, rb := pair(t, a, b)
	_, wa := pair(t, b, a) // b never reads its end
	w := startPatternWriter(wa, blockLimit)
	w.waitStalled(t)
	readA, readB := readAsync(ra), readAsync(rb)

	// Accepts pending on both sides, and Opens in a loop on a.
	acceptA := goErr(func() error {
		c, err := a.Accept(context.Background())
		if err == nil {
			c.Close()
			return fmt.Errorf("accepted a channel nobody opened (ID %d)", c.ID())
		}
		return err
	})
	firstOpen := make(chan struct{})
	opens := goErr(func() error {
		first := true
		for {
			c, err := a.Open(context.Background())
			if err != nil {
				return err
			}
			if o.EarlyOpen {
				// Early opens do not wait for the peer, so the loop
				// would take every channel number: wait until the
				// peer has closed the channel, as it does.
				io.Copy(io.Discard, c)
			}
			c.Close()
			if first {
				close(firstOpen)
				first = false
			}
		}
	})
	acceptB := goErr(func() error {
		for {
			c, err := b.Accept(context.Background())
			if err != nil {
				return err
			}
			c.Close()
		}
	})
	recv(t, firstOpen, "the first Open of the loop")
	assertBlocked(t, readA, "Read with nothing sent")

	noErr(t, a.Close(), "Close")

	// The closing side: everything fails with ErrSessionClosed.
	noErr(t, recv(t, waitA, "Wait after Close"), "Wait after a local Close")
	checkErr(t, recv(t, acceptA, "pending Accept after Close"), "pending Accept after Close", mux.ErrSessionClosed)
	checkErr(t, recv(t, opens, "Open loop after Close"), "Open during Close", mux.ErrSessionClosed)
	checkErr(t, recv(t, readA, "pending Read after Close").err, "pending Read after session Close", mux.ErrSessionClosed)
	checkErr(t, recv(t, w.done, "blocked Write after Close"), "blocked Write after session Close", mux.ErrSessionClosed)
	checkErr(t, await(t, "Open after Close", func() error { return openErr(a) }), "Open after Close", mux.ErrSessionClosed)
	checkErr(t, await(t, "Accept after Close", func() error { return acceptErr(a) }), "Accept after Close", mux.ErrSessionClosed)
	_, err := ra.Read(make([]byte, 1))
	checkErr(t, err, "Read after session Close", mux.ErrSessionClosed)
	_, err = ra.Write([]byte("x"))
	checkErr(t, err, "Write after session Close", mux.ErrSessionClosed)
	a.Close() // idempotent: must not panic or block
	noErr(t, recv(t, goErr(a.Wait), "second Wait"), "second Wait after a local Close")

	// The peer: its session ends too, with an error since it did not close.
	if err := recv(t, waitB, "the peer's Wait to return after the session was closed"); err == nil {
		t.Errorf("the peer's Wait returned nil; want the error that ended it, as it did not close")
	}
	checkErr(t, recv(t, acceptB, "the peer's pending Accept"), "the peer's pending Accept", mux.ErrSessionClosed)
	checkErr(t, await(t, "the peer's Open after its session ended", func() error { return openErr(b) }),
		"the peer's Open after its session ended", mux.ErrSessionClosed)
	// The peer's pending Read ends; io.EOF or ErrSessionClosed are both
	// acceptable since the connection is gone.
	if r := recv(t, readB, "the peer's pending Read"); r.err != io.EOF && !errors.Is(r.err, mux.ErrSessionClosed) {
		t.Errorf("the peer's pending Read: got %d, %v; want io.EOF or an error matching %q", r.n, r.err, mux.ErrSessionClosed)
	}
	_, err = rb.Write([]byte("x"))
	if !errors.Is(err, mux.ErrSessionClosed) && !errors.Is(err, mux.ErrChannelClosed) {
		t.Errorf("the peer's Write after its session ended: got %v, want an error matching %q or %q", err, mux.ErrSessionClosed, mux.ErrChannelClosed)
	}
}
