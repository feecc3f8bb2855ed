package qmux

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// quietOf reports whether s is quiet (quiet.go).
func quietOf(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quietLocked()
}

// writerIdle reports whether nothing is queued for s's writer and no
// goroutine holds the writer role.
func writerIdle(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.writer.held && !s.hasWorkLocked()
}

// readString reads len(want) bytes from c and fails the test unless they
// are want.
func readString(t *testing.T, c net.Conn, want string) {
	t.Helper()
	buf := make([]byte, len(want))
	c.SetReadDeadline(time.Now().Add(failAfter))
	defer c.SetReadDeadline(time.Time{})
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("read %q, %v; want %q", buf, err, want)
	}
}

// TestQuietWriteFlushedByTimer: in a quiet session a short Write does not
// wake the writer, and a goroutine that writes and then does nothing more
// with the session (no Read, Close or Accept) still has its data sent, by
// the flush timer.
func TestQuietWriteFlushedByTimer(t *testing.T) {
	quietBackoff = time.Hour
	t.Cleanup(func() { quietBackoff = 100 * time.Millisecond }) // after the sessions' Close (lentPair)
	_, b, ca, cb := lentPair(t)
	waitFor(t, "the writer to be done with the setup's messages", func() bool { return writerIdle(b) })
	if !quietOf(b) {
		t.Fatal("the session is not quiet with its role lent and one channel open")
	}
	if _, err := cb.Write([]byte("pushed")); err != nil {
		t.Fatal(err)
	}
	readString(t, ca, "pushed")
	waitFor(t, "the flush timer's write to end", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return !b.unsignalled && !b.writer.held
	})
	if quietOf(b) {
		t.Error("still quiet after the flush timer had to write: the next Write would wait for it again")
	}
	if _, err := cb.Write([]byte("again")); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	held := b.unsignalled
	b.mu.Unlock()
	if held {
		t.Error("a Write after the timer's write waits for a flush again")
	}
	readString(t, ca, "again")
}

// TestQuietCloseWrites: in a quiet session Close writes what the call
// queued (its reply and the CLOSE) itself: once it returns nothing waits
// for the writer, and the peer reads the reply, then io.EOF.
func TestQuietCloseWrites(t *testing.T) {
	quietFlushDelay = time.Hour                              // only Close is to write
	t.Cleanup(func() { quietFlushDelay = time.Millisecond }) // after the sessions' Close (lentPair)
	_, b, ca, cb := lentPair(t)
	waitFor(t, "the writer to be done with the setup's messages", func() bool { return writerIdle(b) })
	if _, err := cb.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	if err := cb.Close(); err != nil {
		t.Fatal(err)
	}
	if !writerIdle(b) {
		t.Error("after Close its CLOSE or the reply waits for the writer; want them written by Close")
	}
	readString(t, ca, "reply")
	ca.SetReadDeadline(time.Now().Add(failAfter))
	if n, err := ca.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read after the reply: %d, %v; want io.EOF", n, err)
	}
}

// openWithData opens a channel early on a and writes to ca, the OPEN and
// the data in one write (a's writer role is held while they are queued),
// so that b reads them with one read, the open first.
func openWithData(t *testing.T, a *Session, ca net.Conn) mux.Channel {
	t.Helper()
	waitFor(t, "a's writer to be idle", func() bool { return writerIdle(a) })
	a.mu.Lock()
	a.writer.held = true
	a.mu.Unlock()
	next, err := a.OpenEarly(context.Background())
	if err == nil {
		_, err = ca.Write([]byte("request"))
	}
	a.mu.Lock()
	a.writer.held = false
	a.work.Signal()
	a.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// TestLazyAcceptTryAccept: a channel opened ahead of a call's data, read by
// the Read holding the read role, waits for that Read's goroutine to take
// it (TryAccept) instead of ringing for Accept; it is taken once.
func TestLazyAcceptTryAccept(t *testing.T) {
	a, b, ca, cb := lentPair(t)
	got := holdingRead(t, b, cb)
	next := openWithData(t, a, ca)
	if err := readResult(t, got); err != nil {
		t.Fatal(err)
	}
	if !b.acceptOwed.Load() {
		t.Error("the open read by the Read holding the role rang for Accept; want the ring owed")
	}
	ch, ok := b.TryAccept()
	if !ok {
		t.Fatal("TryAccept found no channel although its open came before the data just read")
	}
	if b.acceptOwed.Load() {
		t.Error("a ring is still owed once TryAccept emptied the queue")
	}
	if ch2, ok := b.TryAccept(); ok {
		t.Fatalf("a second TryAccept returned channel %d", ch2.ID())
	}
	if _, err := next.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	readString(t, ch, "hi")
}

// acceptAsync runs Accept on s and returns its outcome.
func acceptAsync(s *Session) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := s.Accept(context.Background())
		done <- err
	}()
	return done
}

func acceptResult(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Accept: %v", err)
		}
	case <-time.After(failAfter):
		t.Fatalf("Accept did not return the channel waiting for it: %s", what)
	}
}

// TestLazyAcceptPaidByRead: the owed ring for Accept is paid when a Read
// of the session is about to wait, so a goroutine waiting in Accept gets
// the channel.
func TestLazyAcceptPaidByRead(t *testing.T) {
	a, b, ca, cb := lentPair(t)
	got := holdingRead(t, b, cb)
	openWithData(t, a, ca)
	if err := readResult(t, got); err != nil {
		t.Fatal(err)
	}
	accepted := acceptAsync(b)
	go cb.Read(make([]byte, 1)) // waits: the session ends it
	acceptResult(t, accepted, "no ring when a Read was about to wait")
}

// TestLazyAcceptPaidByReader: a goroutine that read the open and then
// neither takes the channel nor reads again holds up Accept only until the
// reader goroutine takes its role back (readLinger).
func TestLazyAcceptPaidByReader(t *testing.T) {
	a, b, ca, cb := lentPair(t)
	b.role.mu.Lock()
	readLinger = time.Millisecond // from lentPair's hour: the next free of the role arms the timer for it
	b.role.mu.Unlock()
	got := holdingRead(t, b, cb)
	openWithData(t, a, ca)
	if err := readResult(t, got); err != nil {
		t.Fatal(err)
	}
	acceptResult(t, acceptAsync(b), "no ring when the reader goroutine took its role back")
}
