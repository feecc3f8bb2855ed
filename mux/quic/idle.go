package quic

import (
	"fmt"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// An idleness is the state of the session's idle check (see checkIdle),
// set by newSession before the session's goroutines start. Then timer is
// read with Session.mu held; the other fields belong to the check that
// runs: one at a time, each arming the next.
type idleness struct {
	timer *time.Timer
	tick  time.Duration
	reads uint64    // the count of Reads that returned data at the last change
	since time.Time // when the quiet began
}

// startIdle arms the first idle check if Config.IdleTimeout is on. The
// checks run on a timer rather than a goroutine of their own, so a
// session costs no goroutine for them while it waits. The check is
// counted in opens, so that the session's end waits for it.
func (s *Session) startIdle() {
	if s.cfg.IdleTimeout <= 0 {
		return
	}
	s.idle = idleness{tick: s.cfg.IdleTimeout / 4, since: time.Now()}
	s.opens.Add(1) // done by the check that finds the session ended, or by stopIdleLocked if it stops the timer first
	s.mu.Lock()    // the first check, which reads timer with mu held, may come before AfterFunc returns
	s.idle.timer = time.AfterFunc(s.idle.tick, s.checkIdle)
	s.mu.Unlock()
}

// checkIdle ends the session once it has had no channel open and no data
// read for Config.IdleTimeout, and otherwise arms the next check. It
// samples the count of channels open and of Reads that returned data four
// times per IdleTimeout, so a channel opened and closed between two
// checks without data is no activity, as in qmux.
func (s *Session) checkIdle() {
	now := time.Now()
	l := &s.idle
	if n := s.dataReads.Load(); n != l.reads || s.hasChannels() {
		l.reads, l.since = n, now
	}
	if now.Sub(l.since) >= s.cfg.IdleTimeout && s.endedErr() == nil {
		s.closeConn(fmt.Errorf("%w: %w", mux.ErrSessionClosed, ErrIdleTimeout), ErrIdleTimeout, codeSessionClosed, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.opens.Done()
		return
	}
	l.timer.Reset(l.tick)
}

// stopIdleLocked stops the idle check as the session ends, with mu held;
// a check that already runs finds the session ended and stops itself.
func (s *Session) stopIdleLocked() {
	if s.idle.timer != nil && s.idle.timer.Stop() {
		s.opens.Done()
	}
}

// hasChannels reports whether a channel is open: opened or accepted and
// not yet closed, queued for Accept, or held unanswered while Accept's
// backlog is full. A stream whose open header has not come is not one.
func (s *Session) hasChannels() bool {
	if s.channels.Load() > 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting) > 0
}
