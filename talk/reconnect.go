package talk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// Defaults of ReconnectConfig.
const (
	DefaultReconnectMin = 100 * time.Millisecond
	DefaultReconnectMax = 10 * time.Second
)

// ReconnectConfig configures a peer that Dial redials after its session
// ends (WithReconnect). The zero value uses the defaults.
type ReconnectConfig struct {
	// MinWait is the wait before a redial after a failed dial or a
	// session that ended early; each failure in a row doubles it, up to
	// MaxWait, every wait spread by ±20% jitter. Default
	// DefaultReconnectMin.
	MinWait time.Duration

	// MaxWait caps the waits. A session that lasted MaxWait starts them
	// over: the redial after it is at once. Default DefaultReconnectMax.
	MaxWait time.Duration

	// WaitForSession makes calls made while the peer is disconnected
	// (waiting before it dials again) wait for the next session, within
	// their ctx, instead of failing at once with rpc.CodeUnavailable.
	// Either way, calls made while the peer dials wait for the dial.
	WaitForSession bool
}

// WithReconnect makes Dial's peer redial its address whenever its session
// ends, with exponential backoff and jitter (see ReconnectConfig), until
// Close. Calls go over the session of the moment; a call made while the
// peer is disconnected fails at once with rpc.CodeUnavailable, unless
// cfg.WaitForSession makes it wait for the next session (a call made
// while it dials waits for the dial). A call that a draining
// server refused (rpc.ErrRefused: it did not run) is sent again over the
// next session. The peer's handlers serve the calls of every session.
// State and WatchState tell how the peer stands. NewPeer and Listener
// ignore the option.
func WithReconnect(cfg ReconnectConfig) Option {
	return func(o *options) { o.reconnect = &cfg }
}

// A State is how a peer stands with its session.
type State int

const (
	// StateConnected: the peer has a session and calls over it.
	StateConnected State = iota
	// StateConnecting: the peer dials (a reconnecting peer), after its
	// session ended or a server drained it.
	StateConnecting
	// StateDisconnected: the peer has no session. A reconnecting peer
	// waits before it dials again; any other peer stays so.
	StateDisconnected
	// StateClosed: Close was called on a reconnecting peer.
	StateClosed
)

var stateNames = [...]string{"connected", "connecting", "disconnected", "closed"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state_%d", int(s))
}

// ConnState is a peer's State and, when it has no session (connecting,
// disconnected, closed), why: the error that ended its session or failed
// its last dial.
type ConnState struct {
	State State
	Err   error
}

func (s ConnState) String() string {
	if s.Err != nil {
		return s.State.String() + ": " + s.Err.Error()
	}
	return s.State.String()
}

// State returns how the peer stands with its session.
func (p *Peer) State() ConnState {
	st, _ := p.WatchState()
	return st
}

// WatchState returns how the peer stands with its session and a channel
// that is closed when that changes (nil if it never will). A peer that
// does not reconnect is connected until its session ends, then
// disconnected for good, with the session's error.
func (p *Peer) WatchState() (ConnState, <-chan struct{}) {
	if p.re != nil {
		return p.re.watch()
	}
	select {
	case <-p.ctx.Done():
		return ConnState{State: StateDisconnected, Err: context.Cause(p.ctx)}, nil
	default:
		return ConnState{State: StateConnected}, p.ctx.Done()
	}
}

// errPeerClosed is the cause of the calls of a reconnecting peer after
// Close.
var errPeerClosed = errors.New("talk: peer closed")

// A redialer keeps a peer's session: it dials its address again after the
// session ends. Its goroutine (run) owns the state: it alone writes cur,
// state and changed; calls only read them, and report a draining session
// on drains.
type redialer struct {
	addr   string
	o      *options // for transport.Dial and the peers of the sessions
	cfg    ReconnectConfig
	ctx    context.Context // the outer peer's: ends at Close
	drains chan *Peer      // sessions that a server drains (a refused call said so)
	done   chan struct{}   // closed once run has returned

	old sync.WaitGroup // the peers of drained sessions, until they end

	mu      sync.Mutex    // guards the fields below; written by run only
	cur     *Peer         // the peer of the session calls go over; nil unless connected
	last    *Peer         // the peer of the latest session, never nil once run started
	state   ConnState     // how the peer stands
	changed chan struct{} // closed and replaced at each change of state
}

func newRedialer(addr string, o *options, ctx context.Context) *redialer {
	cfg := *o.reconnect
	if cfg.MinWait <= 0 {
		cfg.MinWait = DefaultReconnectMin
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultReconnectMax
	}
	cfg.MaxWait = max(cfg.MaxWait, cfg.MinWait)
	return &redialer{addr: addr, o: o, cfg: cfg, ctx: ctx, drains: make(chan *Peer), done: make(chan struct{}),
		changed: make(chan struct{})}
}

// set changes the state (run only).
func (r *redialer) set(cur *Peer, st State, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur, r.state = cur, ConnState{State: st, Err: err}
	if cur != nil {
		r.last = cur
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// latest returns the peer of the latest session.
func (r *redialer) latest() *Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *redialer) watch() (ConnState, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state.State == StateClosed {
		return r.state, nil
	}
	return r.state, r.changed
}

// run keeps the peer connected until ctx ends: it waits for the session
// of cur to end (or to drain), then redials. After a session that lasted
// MaxWait the first dial is at once; otherwise, and after each failed
// dial, it waits as the config says, so that a server that accepts and
// drops at once is not redialed in a loop.
func (r *redialer) run(cur *Peer) {
	defer close(r.done)
	b := backoff.Policy{Min: r.cfg.MinWait, Max: r.cfg.MaxWait}.New()
	for {
		start := time.Now()
		var ended error
	connected:
		for {
			select {
			case <-cur.done:
				ended = cur.Wait()
				if ended == nil {
					ended = mux.ErrSessionClosed
				}
				cur.Close() // reaps its goroutines
				break connected
			case p := <-r.drains:
				if p != cur {
					continue // a session that is gone already
				}
				// The server drains the session: its calls in flight
				// finish, then it closes it.
				ended = errDraining
				r.retire(cur)
				break connected
			case <-r.ctx.Done():
				cur.Close()
				r.close()
				return
			}
		}
		if time.Since(start) >= r.cfg.MaxWait {
			b.Reset()
		}
		var err error
		if cur, err = r.redial(b, ended, b.Attempt() > 0 || time.Since(start) < r.cfg.MaxWait); err != nil {
			r.close()
			return
		}
	}
}

// close ends the state once the peer is closed, when the peers of the
// drained sessions are closed too.
func (r *redialer) close() {
	r.old.Wait()
	r.set(nil, StateClosed, errPeerClosed)
}

// errDraining is the state's error while a peer redials after a server
// began draining its session.
var errDraining = errors.New("talk: the server drains the session")

// retire lets the peer of a drained session end when its server closes
// it, or at Close.
func (r *redialer) retire(p *Peer) {
	r.old.Add(1)
	go func() {
		defer r.old.Done()
		select {
		case <-p.done:
		case <-r.ctx.Done():
		}
		p.Close()
	}()
}

// redial dials until a session is up and returns its peer, waiting b's
// wait before each dial (the first too, if wait); an error only when ctx
// ended. ended is why the session before ended.
func (r *redialer) redial(b *backoff.Backoff, ended error, wait bool) (*Peer, error) {
	err := ended
	for {
		if wait {
			r.set(nil, StateDisconnected, err)
			if werr := b.Wait(r.ctx); werr != nil {
				return nil, werr
			}
		}
		wait = true
		r.set(nil, StateConnecting, err)
		sess, derr := transport.Dial(r.ctx, r.addr, r.o.transport...)
		if derr == nil {
			p := newPeer(sess, r.o)
			r.set(p, StateConnected, nil)
			return p, nil
		}
		if r.ctx.Err() != nil {
			return nil, r.ctx.Err()
		}
		err = fmt.Errorf("talk: redial: %w", derr)
	}
}

// acquire returns the peer of the session to call over, waiting while
// the peer dials (and, with WaitForSession, while it is disconnected)
// within ctx.
func (r *redialer) acquire(ctx context.Context) (*Peer, error) {
	for {
		r.mu.Lock()
		cur, st, changed := r.cur, r.state, r.changed
		if cur != nil {
			cur.calls.Add(1) // under mu: never after the drain's Wait began
		}
		r.mu.Unlock()
		switch {
		case cur != nil:
			return cur, nil
		case st.State == StateClosed:
			return nil, rpc.NewError(rpc.CodeUnavailable, fmt.Errorf("talk: %s: %w", r.addr, mux.ErrSessionClosed))
		case st.State == StateDisconnected && !r.cfg.WaitForSession:
			return nil, rpc.NewError(rpc.CodeUnavailable, fmt.Errorf("talk: %s: disconnected: %w", r.addr, st.Err))
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, rpc.NewError(rpc.CodeOf(ctx.Err()), fmt.Errorf("talk: %s: waiting for a session: %w", r.addr, ctx.Err()))
		}
	}
}

// drained tells run that a server drains the session of p, and waits
// until calls no longer go over it, or ctx ends.
func (r *redialer) drained(ctx context.Context, p *Peer) {
	for {
		r.mu.Lock()
		cur, changed := r.cur, r.changed
		r.mu.Unlock()
		if cur != p {
			return
		}
		select {
		case r.drains <- p:
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// do runs f with the peer of the session of the moment, again with the
// next session's after a draining server refused the call.
func (p *Peer) do(ctx context.Context, f func(*Peer) error) error {
	for {
		cur, err := p.re.acquire(ctx)
		if err != nil {
			return err
		}
		err = f(cur)
		cur.calls.Done()
		if !errors.Is(err, rpc.ErrRefused) || ctx.Err() != nil {
			return err
		}
		p.re.drained(ctx, cur)
	}
}

// dialReconnecting returns the reconnecting peer (WithReconnect) whose
// first session is sess, dialed at addr.
func dialReconnecting(addr string, sess mux.Session, o *options) *Peer {
	p := &Peer{handler: o.handler, done: make(chan struct{})}
	if p.handler == nil {
		p.handler = rpc.NewRespondMux()
	}
	p.mux, _ = p.handler.(*rpc.RespondMux)
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	inner := *o
	inner.handler = p.handler // every session serves the same handlers
	p.re = newRedialer(addr, &inner, p.ctx)
	inner.onDrain = p.re.drainedSession
	first := newPeer(sess, &inner)
	p.re.mu.Lock()
	p.re.cur, p.re.last = first, first // before run starts: its only writer
	p.re.mu.Unlock()
	go func() {
		defer close(p.done)
		p.re.run(first)
	}()
	return p
}
