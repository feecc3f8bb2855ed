package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults of a Policy's zero fields.
const (
	DefaultMin    = 100 * time.Millisecond
	DefaultMax    = 10 * time.Second
	DefaultFactor = 2.0
	DefaultJitter = 0.2
)

// A Policy says how waits grow. The zero Policy uses the defaults above.
type Policy struct {
	Min    time.Duration // the wait before jitter after the first failure
	Max    time.Duration // no wait exceeds it, jitter included
	Factor float64       // each wait is the previous one times Factor (> 1)
	Jitter float64       // each wait is spread uniformly by ±Jitter of itself, in [0, 1]
}

func (p Policy) withDefaults() Policy {
	if p.Min <= 0 {
		p.Min = DefaultMin
	}
	if p.Max <= 0 {
		p.Max = DefaultMax
	}
	if p.Max < p.Min {
		p.Max = p.Min
	}
	if p.Factor <= 1 {
		p.Factor = DefaultFactor
	}
	if p.Jitter < 0 || p.Jitter > 1 {
		p.Jitter = DefaultJitter
	}
	return p
}

// New returns a Backoff that starts at the policy's first wait.
func (p Policy) New() *Backoff {
	return &Backoff{policy: p.withDefaults(), random: rand.Float64}
}

// A Backoff is the state of one sequence of attempts. It is not safe for
// concurrent use: it belongs to the goroutine that retries.
type Backoff struct {
	policy  Policy
	attempt int            // failures since the last Reset
	random  func() float64 // uniform in [0, 1); replaced by tests
}

// Next returns the wait after one more failure and counts that failure.
func (b *Backoff) Next() time.Duration {
	p := b.policy
	base := float64(p.Min)
	for i := 0; i < b.attempt && base < float64(p.Max); i++ {
		base *= p.Factor
	}
	base = min(base, float64(p.Max))
	b.attempt++
	wait := base * (1 + p.Jitter*(2*b.random()-1))
	if wait > float64(p.Max) {
		wait = float64(p.Max)
	}
	return time.Duration(wait)
}

// Attempt is the number of failures counted since the last Reset.
func (b *Backoff) Attempt() int { return b.attempt }

// Reset starts the sequence over. Call it after a success that lasted:
// resetting as soon as a dial succeeds lets a peer that accepts and then
// drops at once (a crashing exec: child) be redialed in a tight loop.
func (b *Backoff) Reset() { b.attempt = 0 }

// Wait sleeps for Next(), or until ctx is done, and then reports ctx's
// error if it is done.
func (b *Backoff) Wait(ctx context.Context) error {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
