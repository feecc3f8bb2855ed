package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// callContext is the context of a served call. It lives inside the call's
// allocation and makes its Done channel only when asked, which saves the
// allocations of context.WithCancel on every call. Cancellation comes from
// the server (the client closed the call, the session ended, the handler
// returned) or the timer of the deadline the client sent. Values come from
// the session's base context (Server.BaseContext).
type callContext struct {
	parent   context.Context
	deadline time.Time
	call     *Call       // starts watching the client when the end is first looked at
	observed atomic.Bool // Done, Err or AfterFunc was called

	mu    sync.Mutex
	done  chan struct{}
	err   error
	timer *time.Timer
	after []func()
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }
func (c *callContext) Value(key any) any           { return c.parent.Value(key) }

// observe tells the call, the first time, that the context's end is
// looked at: only then is there a point in watching the client.
func (c *callContext) observe() {
	if !c.observed.Load() && c.observed.CompareAndSwap(false, true) {
		c.call.wantWatch()
	}
}

func (c *callContext) Done() <-chan struct{} {
	c.observe()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *callContext) Err() error {
	c.observe()
	return c.ended()
}

// ended is Err for the server's own use: it does not count as looking.
func (c *callContext) ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// AfterFunc lets context.AfterFunc and derived contexts hook cancellation
// without a goroutine each.
func (c *callContext) AfterFunc(f func()) (stop func() bool) {
	c.observe()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, f)
	i := len(c.after) - 1
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil || c.after[i] == nil {
			return false
		}
		c.after[i] = nil
		return true
	}
}

// start arms the deadline timer, if any.
func (c *callContext) start(timeout time.Duration) {
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
		// Under mu, as the timer calls cancel, which reads c.timer.
		c.mu.Lock()
		c.timer = time.AfterFunc(timeout, func() { c.cancel(context.DeadlineExceeded) })
		c.mu.Unlock()
	}
}

// cancel ends the context with err; later calls do nothing.
func (c *callContext) cancel(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	after := c.after
	c.after = nil
	c.mu.Unlock()
	for _, f := range after {
		if f != nil {
			go f()
		}
	}
}
