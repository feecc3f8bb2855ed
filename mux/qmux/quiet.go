package qmux

import "time"

// A quiet session carries one or two exchanges at a time: few channels are
// open and the reader goroutine has lent its role to a Read (no other Read
// was waiting; see readrole.go). There a message is all a write would
// carry, so waking the writer goroutine for it buys no batching, and
// between processes it costs a thread woken onto the other CPU, with the
// write, and often the next step of the call, then running there.
//
// So with quietWrites, in a quiet session, the short messages a goroutine
// queues on the way through a call (an early OPEN, a short Write's DATA,
// the CLOSE of Close, the confirmation of an open read by a Read holding
// the read role) do not wake the writer: they are marked unsignalled, and
// the goroutine writes them itself, with a write that does not wait, at
// the next of its Read about to wait (flushBeforeWait), its Close of a
// channel, or its Accept or TryAccept that takes a channel. An rpc
// server's reply, its CLOSE and the confirmation of the next call's
// channel then leave in one write made by the goroutine that ran the
// call; a client's early OPEN and request in one made by the Read that
// waits for the reply. A goroutine that queues and then waits elsewhere (a
// handler streaming events, which it does not read between) is covered by
// flushTimer, which writes what is left unsignalled quietFlushDelay after
// it was queued; and as such a goroutine is likely to do it again, the
// session is not quiet for quietBackoff after that. The timer is armed
// when it is not running and never stopped: resetting it on every call
// would wake the runtime's network poller each time, and each run starts
// a goroutine, so its delay is also what sets how often it runs (about
// once a millisecond while calls go on).

// quietChannels is the most channels a quiet session has open: a call in
// flight, the channels opened ahead for the next ones, and those whose
// CLOSE handshake is not over.
const quietChannels = 8

// quietLocked reports whether short messages may wait for the goroutine
// that queues them to write them (quietWrites).
func (s *Session) quietLocked() bool {
	if !s.fast(quietWrites) || s.tw == nil || s.numChans > quietChannels || !s.role.lent.Load() {
		return false
	}
	if !s.quietAfter.IsZero() {
		if time.Now().Before(s.quietAfter) {
			return false
		}
		s.quietAfter = time.Time{}
	}
	return true
}

// queueQuietLocked queues a control message without waking the writer if
// the session is quiet, else as queueControlLocked does.
func (s *Session) queueQuietLocked(f frame) {
	if !s.quietLocked() {
		s.queueControlLocked(f)
		return
	}
	s.ctl.push(ctlMsg{f: f, after: len(s.copied)})
	s.ctlBytes += headerLen(f.typ)
	s.holdForFlushLocked()
}

// signalOrHoldLocked wakes the writer for what was just queued, unless the
// session is quiet: then it is left to the goroutine's next flush.
func (s *Session) signalOrHoldLocked() {
	if s.quietLocked() {
		s.holdForFlushLocked()
		return
	}
	s.work.Signal()
}

// holdForFlushLocked marks what is queued as waiting for a flush, and
// starts flushTimer if it is not running.
func (s *Session) holdForFlushLocked() {
	if !s.unsignalled {
		s.unsignalled, s.heldSince = true, time.Now()
	}
	s.flushTimer.arm(quietFlushDelay)
}

// flushTimeout writes what was queued unsignalled quietFlushDelay ago or
// more and is still waiting, and then makes the session not quiet for
// quietBackoff; what was queued since, it waits for the rest of the delay.
func (s *Session) flushTimeout() {
	s.mu.Lock()
	s.flushTimer.fired()
	late := false
	if s.unsignalled && !s.closed {
		now := time.Now()
		if held := now.Sub(s.heldSince); held < quietFlushDelay {
			s.flushTimer.arm(quietFlushDelay - held)
		} else {
			late = true
			s.quietAfter = now.Add(quietBackoff)
		}
	}
	s.mu.Unlock()
	if late {
		s.flushQueued()
	}
}

// quietFlushDelay bounds how long a message stays queued unsignalled when
// the goroutine that queued it does not write it (flushTimer); quietBackoff
// is how long a session is not quiet after that happened.
var (
	quietFlushDelay = time.Millisecond
	quietBackoff    = 100 * time.Millisecond // a variable for the tests
)
