package transport

import (
	"context"
	"io"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
)

// A connQueue hands the connections of a listener from their producer (an
// accept loop, an HTTP handler) to Accept, which makes them sessions. It
// holds no connection of its own: a producer waits in push until Accept
// takes its connection or the queue is closed.
type connQueue struct {
	opts  *Options
	conns chan io.ReadWriteCloser
	done  chan struct{} // closed by fail
	once  sync.Once
	err   error // why the queue ended; written before done is closed
}

func newConnQueue(o *Options) *connQueue {
	return &connQueue{opts: o, conns: make(chan io.ReadWriteCloser), done: make(chan struct{})}
}

// push hands c to Accept. It closes c and returns false if the queue ends
// or ctx is done first.
func (q *connQueue) push(ctx context.Context, c io.ReadWriteCloser) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.done:
	case <-ctx.Done():
	}
	c.Close()
	return false
}

// accept takes the next connection and starts a session over it, with
// the listener's idle timeout.
func (q *connQueue) accept(ctx context.Context) (mux.Session, error) {
	c, err := q.acceptConn(ctx)
	if err != nil {
		return nil, err
	}
	return newSession(c, q.opts.serverSessionConfig())
}

// acceptConn takes the next connection.
func (q *connQueue) acceptConn(ctx context.Context) (io.ReadWriteCloser, error) {
	select {
	case <-q.done:
		return nil, q.err
	default:
	}
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, q.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fail ends the queue: accept returns err from now on. Only the first call
// has an effect.
func (q *connQueue) fail(err error) {
	q.once.Do(func() {
		q.err = err
		close(q.done)
	})
}

// close ends the queue with ErrListenerClosed.
func (q *connQueue) close() { q.fail(ErrListenerClosed) }
