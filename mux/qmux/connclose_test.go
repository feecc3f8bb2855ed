package qmux

import (
	"bufio"
	"context"
	"errors"
	"net"
	"runtime"
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
			ca, cb := mk(t)
			a, b := New(ca, nil), New(cb, nil)
			t.Cleanup(func() { a.Close(); b.Close(); a.Wait(); b.Wait() })
			ch, _ := openPair(t, a, b) // b's side is never read
			wrote := make(chan error, 1)
			go func() {
				_, err := ch.Write(make([]byte, 16<<20))
				wrote <- err
			}()
			waitWindowClosed(t, a, ch.(*channel))
			ca.Close()
			expectWriteFails(t, a, wrote)
		})
		t.Run("conn/"+name, func(t *testing.T) {
			// The peer opens a window larger than the write and never
			// reads its end: the writer blocks in the connection.
			ca, cb := mk(t)
			p := &rawPeer{t: t, s: New(ca, nil), conn: cb, r: bufio.NewReader(cb), syncID: 0xFFFFFFFF}
			t.Cleanup(func() { p.s.Close(); p.s.Wait() })
			done := make(chan error, 1)
			var c mux.Channel
			go func() {
				var err error
				c, err = p.s.Open(context.Background())
				done <- err
			}()
			f, _ := p.next()
			p.send(frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: 1, window: 1 << 30, maxPacket: 1 << 20})
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(make([]byte, 64<<20))
				wrote <- err
			}()
			waitWriting(t, p.s)
			ca.Close()
			expectWriteFails(t, p.s, wrote)
		})
	}
}

// waitWindowClosed waits until c has data to send and no window for it.
func waitWindowClosed(t *testing.T, s *Session, c *channel) {
	t.Helper()
	for deadline := time.Now().Add(failAfter); ; runtime.Gosched() {
		s.mu.Lock()
		blocked := c.pending != nil && c.sendWindow == 0 && c.inflight == 0 && !s.writing
		s.mu.Unlock()
		if blocked {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the write did not block on the window")
		}
	}
}

// waitWriting waits until the session's writer is writing a batch.
func waitWriting(t *testing.T, s *Session) {
	t.Helper()
	for deadline := time.Now().Add(failAfter); ; runtime.Gosched() {
		s.mu.Lock()
		writing := s.writing
		s.mu.Unlock()
		if writing {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer did not start writing")
		}
	}
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
