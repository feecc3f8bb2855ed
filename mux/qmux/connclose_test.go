package qmux

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// A Write blocked on the peer's window, or in the connection because the
// peer does not read, fails promptly when the application closes the
// session's connection out from under it, and the session ends.
func TestConnClosedUnderBlockedWrite(t *testing.T) {
	conns := map[string]func(testing.TB) (net.Conn, net.Conn){
		"pipe": func(testing.TB) (net.Conn, net.Conn) { return pipe.New() },
		"tcp":  tcpConnPair,
	}
	for name, mk := range conns {
		t.Run("window/"+name, func(t *testing.T) {
			// The peer opens a window smaller than the write and reads
			// all of it: the writer then waits for more window.
			const window = 64 << 10
			p, ca, c := openRawChannel(t, mk, window)
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(make([]byte, 16<<20))
				wrote <- err
			}()
			for got := 0; got < window; {
				if f, payload := p.next(); f.typ == msgChannelData {
					got += len(payload)
				}
			}
			ca.Close()
			expectWriteFails(t, p.s, wrote)
		})
		t.Run("conn/"+name, func(t *testing.T) {
			// The peer opens a window larger than the write and stops
			// reading after the first DATA: the writer blocks in the
			// connection.
			p, ca, c := openRawChannel(t, mk, 1<<30)
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(make([]byte, 64<<20))
				wrote <- err
			}()
			for f, _ := p.next(); f.typ != msgChannelData; {
				f, _ = p.next()
			}
			ca.Close()
			expectWriteFails(t, p.s, wrote)
		})
	}
}

// openRawChannel returns a raw peer of a session over a connection of mk,
// the session's end of that connection, and a channel the session opened
// and the peer confirmed with window.
func openRawChannel(t *testing.T, mk func(testing.TB) (net.Conn, net.Conn), window uint32) (*rawPeer, net.Conn, mux.Channel) {
	t.Helper()
	ca, cb := mk(t)
	p := &rawPeer{t: t, s: newSession(t, ca, nil), conn: cb, r: bufio.NewReader(cb), syncID: 0xFFFFFFFF}
	t.Cleanup(func() { cb.Close(); p.s.Close(); p.s.Wait() })
	done := make(chan error, 1)
	var c mux.Channel
	go func() {
		var err error
		c, err = p.s.Open(context.Background())
		done <- err
	}()
	f, _ := p.next()
	if f.typ != msgChannelOpen {
		t.Fatalf("session wrote %+v, want an OPEN", f)
	}
	p.send(frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: 1, window: window, maxPacket: 16 << 10})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return p, ca, c
}

// expectWriteFails checks that the write reporting to wrote fails within
// failAfter, and that s ends with an error.
func expectWriteFails(t *testing.T, s *Session, wrote <-chan error) {
	t.Helper()
	select {
	case err := <-wrote:
		if err == nil {
			t.Fatal("the blocked Write succeeded after its connection was closed")
		}
		if !errors.Is(err, mux.ErrSessionClosed) {
			t.Errorf("the blocked Write failed with %v, want an error matching mux.ErrSessionClosed", err)
		}
	case <-time.After(failAfter):
		t.Fatalf("the blocked Write did not return within %v of closing its connection", failAfter)
	}
	if err := waitEnd(t, s); err == nil {
		t.Error("the session ended without an error although its connection was closed under it")
	}
}
