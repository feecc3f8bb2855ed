package qmux

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// lentPair returns two sessions over loopback TCP with a channel between
// them, ca on a and cb on b, once b's reader goroutine has lent its role
// (readOnWait): b's next Read that waits reads the connection itself. The
// role stays free for the test's length (readLinger).
func lentPair(t *testing.T) (a, b *Session, ca, cb net.Conn) {
	t.Helper()
	readLinger = time.Hour
	a, b = newTCPPair(t, nil)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		readLinger = 500 * time.Microsecond // the sessions' timers are stopped
	})
	ca, cb = openPair(t, a, b)
	// The reader lends the role after it handed a short payload to a
	// waiting Read, when no other Read waits: that Read may not have
	// counted itself out yet, so ping until the role is free.
	for range 1000 {
		exchangeOn(t, ca, cb)
		for range 100 {
			if ownerOf(b) == roleFree {
				return a, b, ca, cb
			}
			runtime.Gosched()
		}
	}
	t.Fatal("the reader goroutine never lent its role")
	return
}

func ownerOf(s *Session) roleOwner {
	s.role.mu.Lock()
	defer s.role.mu.Unlock()
	return s.role.owner
}

// waitFor waits until cond holds, failing the test after failAfter.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); runtime.Gosched() {
		if time.Since(start) > failAfter {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// holdingRead starts a Read of cb that takes the free role of b and waits
// for the connection, and returns its outcome.
func holdingRead(t *testing.T, b *Session, cb net.Conn) <-chan error {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		_, err := cb.Read(make([]byte, 8))
		got <- err
	}()
	waitFor(t, "the Read to hold the role", func() bool {
		b.role.mu.Lock()
		defer b.role.mu.Unlock()
		return b.role.owner == roleRead && b.role.holder == &cb.(*channel).recv
	})
	return got
}

func readResult(t *testing.T, got <-chan error) error {
	t.Helper()
	select {
	case err := <-got:
		return err
	case <-time.After(failAfter):
		t.Fatal("the Read reading the connection was not interrupted")
		return nil
	}
}

// exchange checks that a short message from ca reaches cb.
func exchange(t *testing.T, ca, cb net.Conn) {
	t.Helper()
	if _, err := ca.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	cb.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := io.ReadFull(cb, buf); err != nil || string(buf) != "after" {
		t.Fatalf("read %q, %v; want \"after\"", buf, err)
	}
}

// TestReadRoleDeadline: a Read that reads the connection itself
// (readOnWait) fails with its deadline like any other, and the session
// reads on: the connection's read deadline that interrupted it is
// cleared.
func TestReadRoleDeadline(t *testing.T) {
	_, b, ca, cb := lentPair(t)
	got := holdingRead(t, b, cb)
	cb.SetReadDeadline(time.Now())
	if err := readResult(t, got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v; want os.ErrDeadlineExceeded", err)
	}
	exchange(t, ca, cb)
}

// TestReadRoleDeadlineLater: a deadline set before the Read, passing while
// it reads the connection, ends it too.
func TestReadRoleDeadlineLater(t *testing.T) {
	_, b, ca, cb := lentPair(t)
	cb.SetReadDeadline(time.Now().Add(time.Hour))
	got := holdingRead(t, b, cb)
	cb.SetReadDeadline(time.Now().Add(time.Millisecond))
	if err := readResult(t, got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v; want os.ErrDeadlineExceeded", err)
	}
	exchange(t, ca, cb)
}

// TestReadRoleClose: Close fails a Read that reads the connection itself,
// and the session's other channels go on.
func TestReadRoleClose(t *testing.T) {
	a, b, _, cb := lentPair(t)
	got := holdingRead(t, b, cb)
	cb.Close()
	if err := readResult(t, got); !errors.Is(err, mux.ErrChannelClosed) {
		t.Fatalf("Read: %v; want mux.ErrChannelClosed", err)
	}
	ca2, cb2 := openPair(t, a, b)
	exchange(t, ca2, cb2)
}

// TestReadRoleSessionClose: closing the session fails a Read that reads
// the connection itself, and Close returns.
func TestReadRoleSessionClose(t *testing.T) {
	_, b, _, cb := lentPair(t)
	got := holdingRead(t, b, cb)
	b.Close()
	if err := readResult(t, got); !errors.Is(err, mux.ErrSessionClosed) {
		t.Fatalf("Read: %v; want mux.ErrSessionClosed", err)
	}
}

// TestReadRoleDispatches: a Read that reads the connection itself hands
// what comes for other channels to them, opens included, and gets its own.
func TestReadRoleDispatches(t *testing.T) {
	a, b, ca, cb := lentPair(t)
	got := holdingRead(t, b, cb)
	ca2, cb2 := openPair(t, a, b) // the holder reads the OPEN
	exchange(t, ca2, cb2)
	if _, err := ca.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := readResult(t, got); err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// TestReadRoleNotLentWithoutSocket: on a connection that is no socket
// (a pipe here; TLS, WebSocket and stdio alike), no Read can take the
// role, so the reader goroutine must not lend it: it would stay free for
// readLinger (an hour here) with the peer's messages unread, and the
// second round trip would never end.
func TestReadRoleNotLentWithoutSocket(t *testing.T) {
	readLinger = time.Hour
	t.Cleanup(func() { readLinger = 500 * time.Microsecond })
	a, b := newPair(t, nil)
	ca, cb := openPair(t, a, b)
	for i := range 3 {
		done := make(chan error, 1)
		go func() {
			buf := make([]byte, 1)
			_, err := io.ReadFull(cb, buf)
			if err == nil {
				_, err = cb.Write(buf)
			}
			done <- err
		}()
		if _, err := ca.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		ca.SetReadDeadline(time.Now().Add(failAfter))
		if _, err := io.ReadFull(ca, make([]byte, 1)); err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestWaitAges: a counted Read is young for at least idleWait and at most
// three times that; uncounting by stamp keeps the counts right across
// epochs.
func TestWaitAges(t *testing.T) {
	var a waitAges
	t0 := time.Unix(1000, 0)
	s1 := a.count(t0)
	if !a.young(t0.Add(idleWait - 1)) {
		t.Fatal("a Read counted idleWait-1 ago is not young")
	}
	if !a.young(t0.Add(idleWait)) {
		t.Fatal("a Read counted idleWait ago is not young: it must be for at least idleWait")
	}
	s2 := a.count(t0.Add(idleWait + 1))
	if a.young(t0.Add(3*idleWait + 2)); a.young(t0.Add(6 * idleWait)) {
		t.Fatal("Reads counted long ago are still young")
	}
	a.uncount(s1)
	a.uncount(s2)
	if a.cur != 0 || a.prev != 0 {
		t.Fatalf("counts %d and %d after every Read was uncounted", a.cur, a.prev)
	}
	s3 := a.count(t0.Add(10 * idleWait))
	a.uncount(s3)
	if a.young(t0.Add(10 * idleWait)) {
		t.Fatal("young with no Read counted")
	}
}

// exchangeOn has a Read of cb wait, then writes one byte to ca for it,
// and checks that the Read got it.
func exchangeOn(t *testing.T, ca, cb net.Conn) {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(cb, make([]byte, 1))
		got <- err
	}()
	r := &cb.(*channel).recv
	waitFor(t, "the Read to wait", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.offer.state == offerWaiting
	})
	if _, err := ca.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(failAfter):
		t.Fatal("the Read did not get the byte written for it")
	}
}

// TestIdleReadLetsRoleGo: a Read that waits for good (a stream watched for
// events) neither keeps the reader goroutine from lending its role nor,
// holding it, keeps the Reads of calls from taking it; it still gets its
// data once a Read reads the connection.
func TestIdleReadLetsRoleGo(t *testing.T) {
	idleWait = time.Millisecond
	readLinger = time.Hour
	a, b := newTCPPair(t, nil)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		readLinger = 500 * time.Microsecond // the sessions' goroutines are gone
		idleWait = 5 * time.Millisecond
	})
	caw, cbw := openPair(t, a, b) // watched for events
	ca, cb := openPair(t, a, b)   // carries calls
	watcher := &cbw.(*channel).recv
	callsHold := func() bool { // the role is free or a Read of cb holds it
		b.role.mu.Lock()
		defer b.role.mu.Unlock()
		return b.role.owner == roleFree || b.role.owner == roleRead && b.role.holder != watcher
	}
	exchangeUntil := func(what string, cond func() bool) {
		t.Helper()
		for start := time.Now(); ; {
			exchangeOn(t, ca, cb)
			if cond() {
				return
			}
			if time.Since(start) > failAfter {
				t.Fatal(what)
			}
		}
	}

	watched := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(cbw, make([]byte, 1))
		watched <- err
	}()
	exchangeUntil("the reader goroutine never lent its role while a Read waited for events", callsHold)
	if _, err := caw.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	exchangeOn(t, ca, cb) // a Read of the connection: it hands the event over
	if err := readResult(t, watched); err != nil {
		t.Fatal(err)
	}

	// The watcher waits again, holding the free role, until it is idle.
	held := holdingRead(t, b, cbw)
	waitFor(t, "the holder to have waited idleWait", func() bool {
		b.role.mu.Lock()
		defer b.role.mu.Unlock()
		return time.Since(b.role.heldSince) > idleWait
	})
	exchangeUntil("the idle holder kept the role from the Reads of calls", callsHold)
	if _, err := caw.Write([]byte{2}); err != nil {
		t.Fatal(err)
	}
	exchangeOn(t, ca, cb)
	if err := readResult(t, held); err != nil {
		t.Fatal(err)
	}
}
