package quic_test

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/quic"
)

// idleTimeout is the idle timeout of the tests below: long enough that a
// loaded machine does not stall the activity they keep up for that long
// (1 s was not, under -race -count=20 on a loaded machine: the caller
// once paused that long between two calls, and the session was rightly
// let go).
const idleTimeout = 2 * time.Second

// checkIdleEnd waits for s to end and checks that it ended for its idle
// timeout, no sooner than idleTimeout after quiet, when its activity
// stopped; peer's end must be the peer's close.
func checkIdleEnd(t *testing.T, s, peer *quic.Session, quiet time.Time) {
	t.Helper()
	err := waitEnd(t, s)
	idle := time.Since(quiet)
	if !errors.Is(err, quic.ErrIdleTimeout) || !errors.Is(err, mux.ErrIdleTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Wait of the idle session: %v, want ErrIdleTimeout", err)
	}
	if idle < idleTimeout {
		t.Errorf("the session ended %v after its activity stopped, before its idle timeout (%v)", idle, idleTimeout)
	}
	if _, err := s.Accept(testContext(t)); !errors.Is(err, mux.ErrSessionClosed) || !errors.Is(err, quic.ErrIdleTimeout) {
		t.Errorf("Accept after the idle timeout: %v, want ErrSessionClosed and ErrIdleTimeout", err)
	}
	if err := peer.Wait(); !errors.Is(err, io.EOF) {
		t.Errorf("the peer's Wait: %v, want io.EOF (closed by the peer)", err)
	}
}

// waitEnd returns s's Wait, or fails the test if s has not ended well
// past its idle timeout.
func waitEnd(t *testing.T, s *quic.Session) error {
	t.Helper()
	ended := make(chan error, 1)
	go func() { ended <- s.Wait() }()
	timer := time.NewTimer(10 * idleTimeout)
	defer timer.Stop()
	select {
	case err := <-ended:
		return err
	case <-timer.C:
		t.Fatalf("the session did not end within ten times its idle timeout")
		return nil
	}
}

// A session with no channel and no data ends after Config.IdleTimeout,
// though keep-alives flow: they are not activity.
func TestIdleTimeout(t *testing.T) {
	for _, keepAlive := range []time.Duration{50 * time.Millisecond, -1} {
		start := time.Now()
		a, b, stop := sessionPairs(t,
			&quic.Config{KeepAlivePeriod: keepAlive},
			&quic.Config{KeepAlivePeriod: keepAlive, IdleTimeout: idleTimeout})
		checkIdleEnd(t, b, a, start)
		stop()
	}
}

// An open channel keeps the session up, without data; so do calls, a
// channel each, made one after another; once both stop, the session
// ends after its idle timeout.
func TestIdleTimeoutActivity(t *testing.T) {
	a, b, stop := sessionPairs(t, nil, &quic.Config{KeepAlivePeriod: 50 * time.Millisecond, IdleTimeout: idleTimeout})
	defer stop()
	ended := make(chan error, 1)
	go func() { ended <- b.Wait() }()
	upFor := func(what string, d time.Duration) {
		t.Helper()
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case err := <-ended:
			t.Fatalf("the session ended with %s: %v", what, err)
		case <-timer.C:
		}
	}

	// A channel each side holds open, data-less, for one and a half
	// times the timeout:
	// one a opened, and one b opened.
	for _, s := range []struct{ opener, acceptor *quic.Session }{{a, b}, {b, a}} {
		oc, ac := openPair(t, s.opener, s.acceptor)
		upFor("a channel open", idleTimeout*3/2)
		oc.Close()
		ac.Close()
	}

	// Calls, one after another, for one and a half times the timeout.
	served := make(chan error, 1)
	go func() {
		for {
			c, err := b.Accept(testContext(t))
			if err != nil {
				served <- err
				return
			}
			buf := make([]byte, 8)
			if _, err := io.ReadFull(c, buf); err == nil {
				_, err = c.Write(buf)
			}
			c.Close()
		}
	}()
	calls := time.Now()
	for time.Since(calls) < idleTimeout*3/2 {
		c, err := a.Open(testContext(t))
		if err != nil {
			t.Fatalf("Open of a call: %v", err)
		}
		buf := []byte("8 bytes.")
		if _, err := c.Write(buf); err != nil {
			t.Fatalf("Write of a call: %v", err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("Read of a call: %v", err)
		}
		c.Close()
	}
	checkIdleEnd(t, b, a, time.Now())
	if err := <-served; !errors.Is(err, quic.ErrIdleTimeout) {
		t.Errorf("the server's Accept: %v, want ErrIdleTimeout", err)
	}
}

// A peer that opens streams and never sends their open header is no
// activity: its session ends after the idle timeout all the same.
func TestIdleTimeoutHeaderless(t *testing.T) {
	start := time.Now()
	s, raw := rawPeer(t, &quic.Config{IdleTimeout: idleTimeout})
	for range 3 {
		if _, err := raw.OpenStreamSync(testContext(t)); err != nil {
			t.Fatal(err)
		}
	}
	// A FIN on a fourth stream, with no header either, makes the session
	// learn of the three before it (QUIC opens streams in order), whose
	// headers it then waits for.
	last, err := raw.OpenStreamSync(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	last.Close()
	err = waitEnd(t, s)
	if !errors.Is(err, quic.ErrIdleTimeout) {
		t.Fatalf("Wait: %v, want ErrIdleTimeout", err)
	}
	if idle := time.Since(start); idle < idleTimeout {
		t.Errorf("the session ended after %v, before its idle timeout (%v)", idle, idleTimeout)
	}
}
