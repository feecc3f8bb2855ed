package qmux

import (
	"sync"
	"time"
)

// A sessionTimer runs its func once, a delay after arm, unless stop comes
// first. While armed it holds one count of the session's wait group, which
// the run or a successful stop gives back: Close waits for that group, so
// no run is left once it returns. The lock of its owner guards it (the
// writer's timers: Session.mu; the read role's linger: readRole.mu), and
// the func takes that lock and calls fired first.
type sessionTimer struct {
	wg    *sync.WaitGroup
	f     func()
	t     *time.Timer // made by the first arm
	armed bool        // armed, and neither run nor stopped since
}

// init sets the group that counts the timer and the func it runs, once,
// before the first arm.
func (t *sessionTimer) init(wg *sync.WaitGroup, f func()) {
	t.wg, t.f = wg, f
}

// arm starts the timer for d, unless it is armed already: the run to come
// then serves this arm too.
func (t *sessionTimer) arm(d time.Duration) {
	if t.armed {
		return
	}
	t.armed = true
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
