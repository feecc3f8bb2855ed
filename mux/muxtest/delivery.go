package muxtest

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// deliverySizes are the bytes written before a close in the delivery
// cases: each fits a flow-control window, so that the Write returns
// without the peer reading.
var deliverySizes = []int{1, 10 << 10, 100 << 10}

// testCloseHandshake checks what a caller does to know that the peer has
// read what it wrote before it closes the session (mux.Session's Close):
// it half-closes the channel and reads until io.EOF, which the peer's
// Close brings once the peer has read what it wanted, even without
// reading to the end; closing the session right after loses nothing of
// the channel. An rpc server's drain waits for a call's client this way.
func testCloseHandshake(t *testing.T, a, b mux.Session) {
	for _, size := range deliverySizes {
		oc, ac := pair(t, a, b)
		handshake := goErr(func() error {
			// The Write, and CloseWrite, may fail once the peer's Close
			// came, which it sends when it has read all the data: the
			// peer's reads check that it was written.
			oc.Write(patternAt(0, size))
			oc.CloseWrite()
			if n, err := io.Copy(io.Discard, oc); err != nil || n != 0 {
				return fmt.Errorf("reading until the peer's Close: %d bytes, %v; want 0 bytes, then io.EOF", n, err)
			}
			return nil
		})
		got := make([]byte, size) // all the data, not the EOF after it
		_, err := io.ReadFull(ac, got)
		noErr(t, err, fmt.Sprintf("reading the %d bytes written", size))
		if err == nil && string(got) != string(patternAt(0, size)) {
			t.Errorf("the %d bytes read differ from those written", size)
		}
		noErr(t, ac.Close(), "Close")
		noErr(t, recv(t, handshake, "the writer to read io.EOF after the peer's Close"), "the writer's handshake")
		oc.Close()
	}
	noErr(t, a.Close(), "Close of the session after the handshakes")
}

// closeLosesUnread is what s reports of its Close (mux.LossyCloser):
// false for a Session that is no LossyCloser.
func closeLosesUnread(s mux.Session) bool {
	lc, ok := s.(mux.LossyCloser)
	return ok && lc.CloseLosesUnread()
}

// testSessionCloseDelivery checks that the session reports under
// mux.LossyCloser what Options.CloseLosesUnread says of it, then writes
// on channels and closes the session at once: the peer reads the data,
// then an error (io.EOF or one matching mux.ErrSessionClosed). Under Options.CloseLosesUnread, the peer may
// read only a part of the data before the error, which must then match
// mux.ErrSessionClosed; what it reads is still what was written.
func testSessionCloseDelivery(t *testing.T, a, b mux.Session, o Options) {
	if lossy := closeLosesUnread(a); lossy != o.CloseLosesUnread {
		t.Fatalf("the session reports CloseLosesUnread %v (mux.LossyCloser), the Options %v: callers above mux rely on the report", lossy, o.CloseLosesUnread)
	}
	var channels []mux.Channel
	for _, size := range deliverySizes {
		oc, ac := pair(t, a, b)
		channels = append(channels, ac)
		_, err := oc.Write(patternAt(0, size))
		noErr(t, err, fmt.Sprintf("Write of %d bytes", size))
	}
	noErr(t, a.Close(), "Close")
	for i, ac := range channels {
		size := deliverySizes[i]
		type res struct {
			n   int64
			err error
		}
		r := await(t, "the peer's reads after Close", func() res {
			n, err := readPattern(ac)
			return res{n, err}
		})
		ended := r.err == nil || errors.Is(r.err, mux.ErrSessionClosed)
		switch {
		case !ended:
			t.Errorf("reading %d bytes written before Close: %v after %d bytes, want io.EOF or an error matching mux.ErrSessionClosed", size, r.err, r.n)
		case r.n > int64(size):
			t.Errorf("read %d bytes, %d were written", r.n, size)
		case r.n < int64(size) && !o.CloseLosesUnread:
			t.Errorf("read %d bytes before %v, %d were written before Close", r.n, r.err, size)
		case r.n < int64(size) && r.err == nil:
			t.Errorf("read %d bytes before io.EOF, %d were written before Close: a lost end must not look like the channel's", r.n, size)
		}
		ac.Close()
	}
}
