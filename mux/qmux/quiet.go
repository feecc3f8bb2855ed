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
// the session's deferred work (timer.go), which writes what is left
// unsignalled quietFlushDelay after it was queued; and as such a goroutine
// is likely to do it again, the session is not quiet for quietBackoff
// after that.

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
// has the deferred work's timer write it quietFlushDelay later if the
// goroutine has not: the session is then not quiet for quietBackoff.
func (s *Session) holdForFlushLocked() {
	if s.unsignalled {
		return // the timer is armed for the first of it
	}
	now := time.Now()
	s.unsignalled, s.heldSince = true, now
	s.role.mu.Lock()
	s.armDeferredLocked(now, quietFlushDelay)
	s.role.mu.Unlock()
}

// quietFlushDelay bounds how long a message stays queued unsignalled when
// the goroutine that queued it does not write it (runDeferred); quietBackoff
// is how long a session is not quiet after that happened.
var (
	quietFlushDelay = time.Millisecond
	quietBackoff    = 100 * time.Millisecond // a variable for the tests
)
