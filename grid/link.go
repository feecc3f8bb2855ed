package grid

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
	"github.com/qtalkkit/qtalk/talk"
)

// A link is this host's side of its session with one other host. Its run
// goroutine owns the session: it dials or is handed it, pings it, and
// closes it; requests only read the current peer under mu.
type link struct {
	m      *Manager
	host   string // canonical address
	dialer bool   // this host dials; otherwise the other host does

	// incoming hands the run goroutine the sessions the host greeted us
	// with (the accepting side only). A newer one replaces the current:
	// the dialer redials only once it has given the old one up.
	incoming chan *talk.Peer

	mu      sync.Mutex    // guards the fields below
	state   State         // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced at each change of state
	peer    *talk.Peer    // guarded by mu; the session in use, nil while down
}

func newLink(m *Manager, host string) *link {
	return &link{
		m:        m,
		host:     host,
		dialer:   dials(m.cfg.Self, host),
		incoming: make(chan *talk.Peer),
		state:    State{Status: Connecting, Since: time.Now()},
		changed:  make(chan struct{}),
	}
}

// hand gives the link a session the host greeted us with, waiting for the
// run goroutine to take it.
func (l *link) hand(ctx context.Context, p *talk.Peer) error {
	select {
	case l.incoming <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// set records a new state and the peer in use.
func (l *link) set(s Status, err error, p *talk.Peer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state = State{Status: s, Err: err, Since: time.Now()}
	l.peer = p
	close(l.changed)
	l.changed = make(chan struct{})
	if s == Connected {
		l.m.cfg.Logger.Info("grid: link up", "host", l.host)
	} else {
		l.m.cfg.Logger.Warn("grid: link down", "host", l.host, "err", err)
	}
}

// current returns the peer in use, or an error matching ErrUnavailable.
func (l *link) current() (*talk.Peer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peer == nil {
		if l.state.Err != nil {
			return nil, fmt.Errorf("%w: %s is %s: %w", ErrUnavailable, l.host, l.state.Status, l.state.Err)
		}
		return nil, fmt.Errorf("%w: %s is %s", ErrUnavailable, l.host, l.state.Status)
	}
	return l.peer, nil
}

// run keeps the link until ctx ends.
func (l *link) run(ctx context.Context) {
	b := backoff.Policy{Min: l.m.cfg.ReconnectMin, Max: l.m.cfg.ReconnectMax}.New()
	var next *talk.Peer // a session handed over while another was in use
	for {
		p := next
		next = nil
		if p == nil {
			var err error
			p, err = l.connect(ctx)
			if ctx.Err() != nil {
				l.set(Disconnected, ErrClosed, nil)
				return
			}
			if err != nil {
				l.set(Disconnected, err, nil)
				if b.Wait(ctx) != nil {
					l.set(Disconnected, ErrClosed, nil)
					return
				}
				continue
			}
		}
		up := time.Now()
		l.set(Connected, nil, p)
		var err error
		next, err = l.keep(ctx, p)
		l.m.forget(p.Session())
		p.Session().Close()
		l.m.wg.Go(func() { p.Close() }) // waits for the handlers, which the close cancelled
		if ctx.Err() != nil {
			l.set(Disconnected, ErrClosed, nil)
			return
		}
		if next != nil {
			continue
		}
		l.set(Disconnected, err, nil)
		if time.Since(up) > l.m.cfg.ReconnectMax {
			b.Reset()
		}
		if l.dialer && b.Wait(ctx) != nil {
			l.set(Disconnected, ErrClosed, nil)
			return
		}
	}
}

// connect dials the host, or waits for it to dial.
func (l *link) connect(ctx context.Context) (*talk.Peer, error) {
	if l.dialer {
		return l.m.dial(ctx, l)
	}
	select {
	case p := <-l.incoming:
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errPingTimeout ends a link whose ping got no answer in time.
var errPingTimeout = errors.New("grid: ping timed out")

// keep pings p until its session ends, a ping fails, ctx ends, or the host
// greets us with a newer session, which keep returns.
func (l *link) keep(ctx context.Context, p *talk.Peer) (*talk.Peer, error) {
	t := time.NewTicker(l.m.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-p.Context().Done():
			return nil, fmt.Errorf("session ended: %w", context.Cause(p.Context()))
		case <-ctx.Done():
			return nil, ctx.Err()
		case next := <-l.incoming:
			return next, nil
		case <-t.C:
			if err := l.ping(ctx, p); err != nil {
				return nil, err
			}
		}
	}
}

// ping calls the host's ping and fails with errPingTimeout once
// PingTimeout has passed since it sent it, whether or not the call has
// returned by then: the bound PingInterval+PingTimeout on finding a
// silent peer is grid's own, whatever a call takes to return once its ctx
// ends. A call that has not returned finishes in the background, in the
// Manager's wait group: the session is closed once the ping fails, which
// ends it, and Close waits for it.
func (l *link) ping(ctx context.Context, p *talk.Peer) error {
	// ping returns once the call has returned or ctx has ended, so its
	// cancel never cuts a call short; it is not the goroutine's to call,
	// as ctx ending then would race with the call's result.
	ctx, cancel := context.WithTimeout(ctx, l.m.cfg.PingTimeout)
	defer cancel()
	done := make(chan error, 1)
	l.m.wg.Go(func() { done <- l.m.pingCall(ctx, p) })
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w after %v", errPingTimeout, l.m.cfg.PingTimeout)
	}
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// callPing makes the call of a ping on p.
func callPing(ctx context.Context, p *talk.Peer) error {
	_, err := p.Call(ctx, selectorPing, nil, nil)
	return err
}
