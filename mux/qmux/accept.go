package qmux

import (
	"context"
	"fmt"

	"github.com/qtalkkit/qtalk/mux"
)

// The accept queue holds the channels the peer opened and this side
// confirmed, up to Config.AcceptBacklog, until Accept or TryAccept takes
// them (Session.accepts, guarded by Session.mu). Accept waits on a bell
// (Session.acceptBell, one token) that rings when the queue may hold a
// channel for it; it looks at the queue itself, so a ring too many costs
// one look.
//
// With lazyAccept, a channel opened in what a Read holding the read role
// read, in a quiet session, does not ring the bell: the goroutine of that
// Read is likely to come back for the next channel (an rpc server's, done
// with a call, takes the next call's channel with TryAccept), and a ring
// would wake the goroutine waiting in Accept to hand the channel over, a
// thread woken per call between processes. The ring is owed instead
// (Session.acceptOwed), and paid when the channel is still there as the
// goroutine that owes it, or any other, is about to wait in a Read, when
// the reader goroutine takes its role back (within readLinger after the
// Read let go of it), or when a TryAccept leaves another channel in the
// queue.

// Accept waits for a channel opened by the peer. A channel already waiting
// is returned even if ctx is done.
func (s *Session) Accept(ctx context.Context) (mux.Channel, error) {
	for {
		c, err := s.takeAccepted()
		if c != nil || err != nil {
			if c == nil {
				return nil, err
			}
			return c, nil
		}
		select {
		case <-s.acceptBell:
		case <-ctx.Done():
			return nil, fmt.Errorf("qmux: accept: %w", ctx.Err())
		case <-s.done:
			return nil, s.closeErr
		}
	}
}

// TryAccept returns a channel opened by the peer and true if one waits for
// Accept, without waiting (mux.TryAccepter).
func (s *Session) TryAccept() (mux.Channel, bool) {
	c, _ := s.takeAccepted()
	if c == nil {
		return nil, false
	}
	return c, true
}

// takeAccepted takes the oldest channel waiting for Accept, if any, or
// reports why none will come. Taking one makes room for an open left
// unanswered, and writes the messages queued quietly (a confirmation among
// them) if the session is quiet.
func (s *Session) takeAccepted() (*channel, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, s.closeErr
	}
	if s.accepts.len() == 0 {
		s.mu.Unlock()
		return nil, nil
	}
	c := s.accepts.pop()
	err := s.promoteWaitingLocked()
	more := s.accepts.len() > 0
	if !more {
		s.acceptOwed.Store(false) // nothing left to ring for
	}
	flush := s.unsignalled
	s.mu.Unlock()
	if err != nil {
		s.fail(err)
	}
	if more {
		s.ringAccept()
	}
	if flush {
		s.flushQueued()
	}
	return c, nil
}

// queueAcceptedLocked puts c, confirmed, in the accept queue, and rings for
// Accept unless that is left to the goroutine of the Read that read its
// open while holding the read role (byHolder; lazyAccept).
func (s *Session) queueAcceptedLocked(c *channel, byHolder bool) {
	s.accepts.push(c)
	if byHolder && s.fast(lazyAccept) && s.quietLocked() {
		s.acceptOwed.Store(true)
		return
	}
	s.ringAccept()
}

// ringAccept lets a goroutine waiting in Accept look at the queue.
func (s *Session) ringAccept() {
	select {
	case s.acceptBell <- struct{}{}:
	default: // rung already
	}
}

// payAccept rings for Accept if a ring is owed: the caller is about to
// wait, or is the reader goroutine taking its role back.
func (s *Session) payAccept() {
	if s.acceptOwed.Load() && s.acceptOwed.Swap(false) {
		s.ringAccept()
	}
}
