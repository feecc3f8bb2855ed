package qmux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

var (
	// ErrIdleTimeout ends a session that had no channel open and received
	// no data for Config.IdleTimeout. It is mux.ErrIdleTimeout, which
	// mux/quic's sessions report too, and matches os.ErrDeadlineExceeded.
	ErrIdleTimeout = mux.ErrIdleTimeout

	// ErrKeepAliveTimeout ends a session whose peer did not answer a
	// keepalive probe within Config.KeepAliveTimeout. It matches
	// os.ErrDeadlineExceeded.
	ErrKeepAliveTimeout = fmt.Errorf("qmux: keepalive timeout: the peer did not answer: %w", os.ErrDeadlineExceeded)

	// ErrWriteTimeout ends a session whose write to the connection did
	// not complete within Config.WriteTimeout: the peer does not read. It
	// matches os.ErrDeadlineExceeded.
	ErrWriteTimeout = fmt.Errorf("qmux: write timeout: the peer does not read: %w", os.ErrDeadlineExceeded)
)

// A liveness is the state of the session's liveness checks (see
// checkLiveness), set by New before the session's goroutines start. Then
// timer is read with Session.mu held; the other fields belong to the
// check that runs: one at a time, each arming the next.
type liveness struct {
	timer                 *time.Timer
	tick                  time.Duration
	seen, data            uint64    // the counts of messages and DATA messages received at the last change
	quietSince, idleSince time.Time // when the keepalive's and the idle timeout's quiet began
}

// startLiveness arms the first check, if any of Config.IdleTimeout,
// Config.KeepAlivePeriod and Config.WriteTimeout is on. The checks run on
// a timer rather than a goroutine of their own, so a session costs no
// goroutine for them while it waits.
func (s *Session) startLiveness() {
	var tick time.Duration
	for _, d := range []time.Duration{s.cfg.IdleTimeout, s.cfg.KeepAlivePeriod, s.cfg.WriteTimeout} {
		if d > 0 && (tick == 0 || d < tick) {
			tick = d
		}
	}
	if tick == 0 {
		return
	}
	now := time.Now()
	s.live = liveness{tick: tick / 4, quietSince: now, idleSince: now}
	s.wg.Add(1) // done by the check that finds the session ended, or by fail if it stops the timer first
	s.mu.Lock() // the first check, which reads timer with mu held, may come before AfterFunc returns
	s.live.timer = time.AfterFunc(s.live.tick, s.checkLiveness)
	s.mu.Unlock()
}

// checkLiveness ends the session when it has been idle for
// Config.IdleTimeout or a write has been under way for Config.WriteTimeout,
// and probes a peer silent for Config.KeepAlivePeriod; then it arms the
// next check. It samples the counts of messages and DATA messages
// received, and the start of the write under way, four times per the
// shortest of those settings, so it costs the reader an atomic add or two
// a message and the writer two stores a batch.
func (s *Session) checkLiveness() {
	if err := s.livenessErr(time.Now()); err != nil {
		s.fail(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.wg.Done()
		return
	}
	s.live.timer.Reset(s.live.tick)
}

// livenessErr runs one check at now and returns the error that ends the
// session, if it must end.
func (s *Session) livenessErr(now time.Time) error {
	select {
	case <-s.done:
		return nil
	default:
	}
	l := &s.live
	if n := s.dataReceived.Load(); n != l.data || s.hasChannels() {
		l.data, l.idleSince = n, now
	}
	if n := s.received.Load(); n != l.seen {
		l.seen, l.quietSince = n, now
	}
	writing := s.writeSince.Load()
	switch {
	case s.cfg.WriteTimeout > 0 && writing != 0 && now.Sub(time.Unix(0, writing)) >= s.cfg.WriteTimeout:
		return ErrWriteTimeout
	case s.cfg.IdleTimeout > 0 && now.Sub(l.idleSince) >= s.cfg.IdleTimeout:
		return ErrIdleTimeout
	case s.cfg.KeepAlivePeriod > 0 && now.Sub(l.quietSince) >= s.cfg.KeepAlivePeriod:
		if err := s.probe(); err != nil {
			return err
		}
		l.seen, l.quietSince = s.received.Load(), time.Now()
	}
	return nil
}

// probe opens a channel and closes it once the peer answers. Any answer
// shows the peer alive, a refusal too; so does having no channel number
// left to probe with. If the session ends meanwhile, its cause stands.
func (s *Session) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.KeepAliveTimeout)
	defer cancel()
	ch, err := s.open(ctx, true)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return ErrKeepAliveTimeout
		}
		return nil
	}
	ch.Close()
	return nil
}
