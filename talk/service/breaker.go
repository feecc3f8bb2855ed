package service

import (
	"sync"
	"time"
)

// A breaker is the circuit breaker of an upstream service, or of one
// endpoint of a provider of many. Closed, it
// lets every call through and counts the failures in a row; at the
// threshold it opens: calls are refused for the cooldown. Then one call,
// the probe, goes through (half-open): its success closes the breaker,
// its failure opens it for another cooldown. A success of any call closes
// it too.
type breaker struct {
	threshold int // failures in a row that open it; 0: never
	cooldown  time.Duration
	now       func() time.Time
	changed   func(open bool) // called on opening and closing, without mu

	mu       sync.Mutex
	failures int       // guarded by mu; in a row
	open     bool      // guarded by mu
	openedAt time.Time // guarded by mu
	probing  bool      // guarded by mu; the probe is out
}

// An outcome is what a call tells the breaker.
type outcome int

const (
	outcomeNone    outcome = iota // says nothing about the upstream (the client cancelled)
	outcomeSuccess                // the upstream answered
	outcomeFailure                // the upstream could not be reached, failed or timed out
)

// allow reports whether a call may go upstream and whether it is the
// probe; if not, wait is how long the breaker stays open (0 while a probe
// is out).
func (b *breaker) allow() (ok, probe bool, wait time.Duration) {
	if b.threshold == 0 {
		return true, false, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true, false, 0
	}
	if elapsed := b.now().Sub(b.openedAt); elapsed < b.cooldown {
		return false, false, b.cooldown - elapsed
	}
	if b.probing {
		return false, false, 0
	}
	b.probing = true
	return true, true, 0
}

// ejected reports whether the breaker is open: the endpoint it guards
// takes no calls but its probe.
func (b *breaker) ejected() bool {
	if b.threshold == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}

// probeDue reports whether the breaker is open, its cooldown over and no
// probe out: allow would let the next call probe.
func (b *breaker) probeDue() bool {
	if b.threshold == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open && !b.probing && b.now().Sub(b.openedAt) >= b.cooldown
}

// report records the outcome of a call allowed before.
func (b *breaker) report(probe bool, o outcome) {
	if b.threshold == 0 {
		return
	}
	b.mu.Lock()
	wasOpen := b.open
	switch {
	case o == outcomeSuccess:
		b.failures, b.open, b.probing = 0, false, false
	case o == outcomeFailure && probe:
		b.openedAt, b.probing = b.now(), false
	case o == outcomeFailure:
		b.failures++
		if !b.open && b.failures >= b.threshold {
			b.open, b.openedAt = true, b.now()
		}
	case probe:
		b.probing = false // another call may probe
	}
	isOpen := b.open
	b.mu.Unlock()
	if isOpen != wasOpen && b.changed != nil {
		b.changed(isOpen)
	}
}

// A reporter reports the outcome of one call once: the first outcome
// other than outcomeNone counts (a stream reports its success when the
// upstream replies, long before it ends).
type reporter struct {
	b     *breaker
	probe bool
	once  sync.Once
}

func (r *reporter) report(o outcome) {
	if o == outcomeNone {
		if r.probe {
			r.once.Do(func() { r.b.report(true, o) })
		}
		return
	}
	r.once.Do(func() { r.b.report(r.probe, o) })
}
