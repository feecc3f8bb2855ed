package qmux

import (
	"sync"
	"time"
)

// A sessionTimer runs its func once, at a due time after arm, unless stop
// comes first. While armed it holds one count of the session's wait
// group, which the run or a successful stop gives back: Close waits for
// that group, so no run is left once it returns. The lock of its owner
// guards it (the writer's yield timer: Session.mu; the deferred work's:
// readRole.mu), and the func takes that lock and calls fired first.
type sessionTimer struct {
	wg    *sync.WaitGroup
	f     func()
	t     *time.Timer // made by the first arm
	armed bool        // armed, and neither run nor stopped since
	due   time.Time   // when the armed run is due
}

// init sets the group that counts the timer and the func it runs, once,
// before the first arm.
func (t *sessionTimer) init(wg *sync.WaitGroup, f func()) {
	t.wg, t.f = wg, f
}

// arm makes the timer run d after now at the latest. An armed run that is
// due by then serves this arm too; one due later is brought forward,
// unless it is under way already (it then looks at what is pending when
// it runs).
func (t *sessionTimer) arm(now time.Time, d time.Duration) {
	due := now.Add(d)
	if t.armed {
		if due.Before(t.due) && t.t.Stop() {
			t.t.Reset(d) // the count of the stopped run goes to this one
			t.due = due
		}
		return
	}
	t.armed, t.due = true, due
	t.wg.Add(1)
	if t.t == nil {
		t.t = time.AfterFunc(d, t.run)
	} else {
		t.t.Reset(d)
	}
}

// stop cancels the run to come, if the timer has not fired yet.
func (t *sessionTimer) stop() {
	if t.armed && t.t.Stop() {
		t.armed = false
		t.wg.Done()
	}
}

// fired records the run under the owner's lock: a later arm starts the
// timer again.
func (t *sessionTimer) fired() { t.armed = false }

func (t *sessionTimer) run() {
	defer t.wg.Done()
	t.f()
}

// The session's deferred work is what waits for a goroutine that may not
// come: a free read role for a Read to take it (readLinger), messages
// queued unsignalled for the goroutine that queued them to write them
// (quietFlushDelay), CLOSE replies for a write to go with (closeReplyDelay).
// One timer covers the three, armed when one of them begins and not
// running, and never stopped but when the session ends: resetting a timer
// on every call would wake the runtime's network poller, and each run
// starts a goroutine, which on a machine with an idle processor wakes a
// thread. So while calls go on the timer runs about once per delay
// whatever the call rate, and a run finds most of what armed it done
// already; it does what is due and arms itself again for the rest. With
// three timers a process relaying calls between two sessions started
// about one goroutine per call for them.

// armDeferredLocked makes the deferred work's timer run d after now at
// the latest, unless the session ended. Called with role.mu held.
func (s *Session) armDeferredLocked(now time.Time, d time.Duration) {
	if !s.role.ended {
		s.deferred.arm(now, d)
	}
}

// runDeferred is the run of the deferred work's timer.
func (s *Session) runDeferred() {
	s.mu.Lock()
	rr := &s.role
	rr.mu.Lock()
	s.deferred.fired()
	if rr.ended {
		rr.mu.Unlock()
		s.mu.Unlock()
		return
	}
	now := time.Now()
	var next time.Duration // until the next of what is pending; 0 if nothing is
	due := func(since time.Time, d time.Duration) bool {
		left := d - now.Sub(since)
		if left <= 0 {
			return true
		}
		if next == 0 || left < next {
			next = left
		}
		return false
	}
	if rr.owner == roleFree && due(rr.freedAt, readLinger) {
		// Nobody took the role: the reader goroutine takes it back.
		rr.owner = roleReader
		rr.cond.Signal()
	}
	flush := s.unsignalled && due(s.heldSince, quietFlushDelay)
	if flush {
		// The goroutine that queued it waits elsewhere, and is likely to
		// do so again (a handler streaming events): not quiet for a while.
		s.quietAfter = now.Add(quietBackoff)
	}
	if !s.lateSince.IsZero() && due(s.lateSince, closeReplyDelay) && !flush {
		// Still queued (the writer's batch clears lateSince): no write
		// came for them to go with.
		s.lateSince = time.Time{}
		s.work.Signal()
	}
	if next > 0 {
		s.deferred.arm(now, next)
	}
	rr.mu.Unlock()
	s.mu.Unlock()
	if flush {
		s.flushQueued()
	}
}
