package talk_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
)

// A restartable server: it serves on a fixed unix socket address,
// and can be stopped and started again there.
type restartable struct {
	t    *testing.T
	addr string
	stop func() // ends the running server, closing its sessions
}

func newRestartable(t *testing.T) *restartable {
	s := &restartable{t: t, addr: "unix://" + filepath.Join(t.TempDir(), "s")}
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
	})
	return s
}

// start serves on s.addr until stop.
func (s *restartable) start() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := talk.Listen(ctx, s.addr)
	if err != nil {
		cancel()
		s.t.Fatalf("Listen: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		ln.Serve(ctx, nil)
	}()
	s.stop = func() {
		cancel()
		<-served
		s.stop = nil
	}
}

// waitState waits until p's state is one of want and returns it.
func waitState(t *testing.T, p *talk.Peer, want ...talk.State) talk.ConnState {
	t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for {
		st, changed := p.WatchState()
		for _, w := range want {
			if st.State == w {
				return st
			}
		}
		if changed == nil {
			t.Fatalf("state %v for good, want %v", st, want)
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("state %v, want %v", st, want)
		}
	}
}

// ping calls qtalk:ping, which every peer answers.
func ping(ctx context.Context, p *talk.Peer) error {
	_, err := p.Ping(ctx, 8)
	return err
}

// fast are waits short enough for a test.
var fast = talk.ReconnectConfig{MinWait: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond}

// A reconnecting peer whose server goes away is disconnected, with the
// error, and fails calls at once with unavailable; when the server comes
// back, it is connected again and its calls succeed.
func TestReconnectAfterServerRestart(t *testing.T) {
	s := newRestartable(t)
	s.start()
	ctx := callCtx(t)
	p, err := talk.Dial(ctx, s.addr, talk.WithReconnect(fast))
	if err != nil {
		t.Fatal(err)
	}
	defer closePeers(t, p)
	if st := p.State(); st.State != talk.StateConnected {
		t.Fatalf("state after Dial: %v", st)
	}
	if err := ping(ctx, p); err != nil {
		t.Fatalf("call: %v", err)
	}

	s.stop()
	st := waitState(t, p, talk.StateDisconnected)
	if st.Err == nil {
		t.Fatal("disconnected without an error")
	}
	// No server: whatever the redials do meanwhile, the call fails with
	// unavailable, without waiting for a session.
	if err := ping(ctx, p); rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Fatalf("call while the server is away: %v, want unavailable", err)
	}

	s.start()
	waitState(t, p, talk.StateConnected)
	if err := ping(ctx, p); err != nil {
		t.Fatalf("call after the server came back: %v", err)
	}
}

// With WaitForSession, a call made while the server is away waits for
// the next session and succeeds over it.
func TestReconnectCallsWaitForSession(t *testing.T) {
	s := newRestartable(t)
	s.start()
	ctx := callCtx(t)
	cfg := fast
	cfg.WaitForSession = true
	p, err := talk.Dial(ctx, s.addr, talk.WithReconnect(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer closePeers(t, p)
	s.stop()
	waitState(t, p, talk.StateDisconnected)
	done := make(chan error, 1)
	go func() { done <- ping(ctx, p) }()
	s.start()
	if err := waitFor(t, done); err != nil {
		t.Fatalf("call made while disconnected: %v", err)
	}
}

// A call waiting for a session ends with its ctx.
func TestReconnectWaitEndsWithCtx(t *testing.T) {
	s := newRestartable(t)
	s.start()
	cfg := fast
	cfg.WaitForSession = true
	p, err := talk.Dial(callCtx(t), s.addr, talk.WithReconnect(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer closePeers(t, p)
	s.stop()
	waitState(t, p, talk.StateDisconnected)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ping(ctx, p); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Fatalf("call: %v, want deadline_exceeded", err)
	}
}

// Close ends a reconnecting peer for good, also while it waits to
// redial: the state is closed and calls fail with unavailable.
func TestReconnectClose(t *testing.T) {
	s := newRestartable(t)
	s.start()
	ctx := callCtx(t)
	p, err := talk.Dial(ctx, s.addr, talk.WithReconnect(talk.ReconnectConfig{MinWait: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	waitState(t, p, talk.StateDisconnected) // and waits an hour to redial
	closePeers(t, p)
	if st, changed := p.WatchState(); st.State != talk.StateClosed || changed != nil {
		t.Fatalf("state after Close: %v", st)
	}
	if err := ping(ctx, p); rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Fatalf("call after Close: %v, want unavailable", err)
	}
	if err := waitErr(t, p); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
}

func waitFor[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(testTimeout):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}

// A server that accepts and drops every session at once is not redialed
// in a loop: the waits between redials double from MinWait. The gaps
// between the sessions it accepts are at least those waits less their
// jitter; a slow machine only makes them longer.
func TestReconnectBacksOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	const sessions = 4
	accepts := make(chan time.Time, sessions)
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case accepts <- time.Now():
			default: // counted enough
			}
			conn.Close()
		}
	}()
	defer func() {
		ln.Close()
		<-served
	}()
	const minWait = 50 * time.Millisecond
	p, err := talk.Dial(callCtx(t), "unix://"+path, talk.WithReconnect(talk.ReconnectConfig{MinWait: minWait, MaxWait: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	defer closePeers(t, p)
	last := waitFor(t, accepts)
	for i := 1; i < sessions; i++ {
		at := waitFor(t, accepts)
		// The wait before redial i is minWait doubled i-1 times, ±20%.
		if gap, least := at.Sub(last), minWait<<(i-1)*8/10; gap < least {
			t.Errorf("redial %d came %v after the session before, want at least %v", i, gap, least)
		}
		last = at
	}
}
