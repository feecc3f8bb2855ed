package service

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

// A pool keeps the one session to an endpoint of a provider (an upstream
// address) that the services it provides share. It dials lazily, on the first call or
// subscription, and from then on keeps the session up: when it drops,
// the pool dials again after a wait, and the waits double from
// reconnect_min to reconnect_max while the upstream stays out of reach or
// keeps dropping (see run).
// Calls that come while the pool dials wait for it; calls that come
// while it waits fail at once with rpc.CodeUnavailable, unless they
// probe for the circuit breaker, which cuts the wait short.
type pool struct {
	addr   string
	certs  *transport.CertFiles // the client certificate and CAs of its services, or nil
	proc   *process             // of a process service, which the pool starts instead of dialing; or nil
	srv    *Server
	ctx    context.Context // ends when the pool or its provider is closed
	cancel context.CancelFunc
	wake   chan struct{} // asks the loop to dial now; buffered

	// serverName, if not "", is the name the upstream's certificate must
	// hold: an endpoint of a DNS provider over TLS, whose address is an IP
	// address. Set before the pool starts.
	serverName string

	mu         sync.Mutex
	started    bool                 // guarded by mu; the loop runs
	peer       *talk.Peer           // guarded by mu; the session, while up
	dialing    bool                 // guarded by mu
	lastErr    error                // guarded by mu; why the last dial failed
	retryAt    time.Time            // guarded by mu; when the loop dials again
	changed    chan struct{}        // guarded by mu; closed and replaced when the above change
	backends   map[*remote]struct{} // guarded by mu; told when the session comes and goes
	inflight   int                  // guarded by mu; forwarded calls
	retired    bool                 // guarded by mu; no longer configured: close once idle
	closedPool bool                 // guarded by mu
}

// newPool returns the pool of the endpoint addr, dialed with certs (or
// none), closed at the latest when parent ends.
func newPool(srv *Server, addr string, certs *transport.CertFiles, parent context.Context) *pool {
	p := &pool{addr: addr, srv: srv, certs: certs, wake: make(chan struct{}, 1), changed: make(chan struct{}), backends: map[*remote]struct{}{}}
	p.ctx, p.cancel = context.WithCancel(parent)
	return p
}

// A poolStatus is where a pool is, for the balancing and LabelServices.
type poolStatus int

const (
	statusIdle       poolStatus = iota // not started: dials on first use
	statusConnecting                   // dialing
	statusConnected                    // the session is up
	statusDown                         // waiting to dial again
	statusClosed
)

func (st poolStatus) String() string {
	return [...]string{"idle", "connecting", "connected", "down", "closed"}[st]
}

func (p *pool) status() poolStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closedPool:
		return statusClosed
	case p.peer != nil:
		return statusConnected
	case !p.started:
		return statusIdle
	case p.dialing:
		return statusConnecting
	}
	return statusDown
}

// current returns the session while it is up, or nil.
func (p *pool) current() *talk.Peer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peer
}

// notifyLocked wakes the waiters for a change of state.
func (p *pool) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// startLocked starts the loop if it does not run yet.
func (p *pool) startLocked() {
	if p.started || p.closedPool {
		return
	}
	p.started = p.srv.spawn(p.run)
	p.dialing = p.started
}

// start starts the loop, as a subscriber wants to know when the upstream
// is up.
func (p *pool) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLocked()
}

// session returns the session to the upstream, waiting for a dial in
// progress until ctx ends. While the pool waits to dial again it fails at
// once, unless urgent, which makes it dial now.
func (p *pool) session(ctx context.Context, urgent bool) (*talk.Peer, error) {
	p.mu.Lock()
	p.startLocked()
	woke := false
	for {
		switch {
		case p.peer != nil:
			peer := p.peer
			p.mu.Unlock()
			return peer, nil
		case p.closedPool || !p.started:
			p.mu.Unlock()
			return nil, rpc.Errorf(rpc.CodeUnavailable, "upstream %s: closed", p.addr)
		case p.dialing:
		case urgent && !woke:
			woke = true
			select {
			case p.wake <- struct{}{}:
			default:
			}
		default:
			err := rpc.Errorf(rpc.CodeUnavailable, "upstream %s unreachable (next try in %s): %w",
				p.addr, time.Until(p.retryAt).Round(time.Millisecond), p.lastErr)
			p.mu.Unlock()
			return nil, err
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, rpc.NewError(rpc.CodeOf(ctx.Err()), ctx.Err())
		}
		p.mu.Lock()
	}
}

// run dials and redials until the pool is closed. Every redial waits
// (internal/backoff: from reconnect_min, doubling up to reconnect_max,
// jittered), after a failed dial and after a session that dropped alike;
// the waits start over only after a session that lasted reconnect_max, so
// an upstream that accepts and drops at once (an exec: child that exits)
// is not redialed in a tight loop.
func (p *pool) run() {
	log := p.srv.logger.With("type", "provider", "id", p.addr)
	if p.proc != nil {
		defer p.srv.removeProcess(p.proc)
		defer p.proc.stop()
	}
	limits := p.srv.state.Load().cfg.Limits
	b := backoff.Policy{Min: limits.ReconnectMin, Max: limits.ReconnectMax}.New()
	for {
		p.setDialing()
		peer, err := p.dial()
		if err != nil {
			if p.ctx.Err() != nil {
				p.failed(err, 0)
				return
			}
			if !p.pause(b, err) {
				return
			}
			log.Warn("upstream unreachable", "err", err)
			continue
		}
		up := time.Now()
		p.connected(peer)
		log.Info("upstream connected")
		select {
		case <-peer.Context().Done():
		case <-p.ctx.Done():
		}
		p.disconnected(peer)
		peer.Close()
		if p.ctx.Err() != nil {
			return
		}
		lost := context.Cause(peer.Context())
		log.Warn("upstream lost", "err", lost)
		limits = p.srv.state.Load().cfg.Limits
		if time.Since(up) >= limits.ReconnectMax {
			b = backoff.Policy{Min: limits.ReconnectMin, Max: limits.ReconnectMax}.New()
		}
		if !p.pause(b, lost) {
			return
		}
	}
}

// pause records why the upstream is out of reach and waits the next wait
// of b, or the wait of a process that says when it starts again, cut
// short by a wake; it returns false when the pool is closed.
func (p *pool) pause(b *backoff.Backoff, err error) bool {
	wait, ok := restartDelay(err)
	if !ok {
		wait = b.Next()
	}
	p.failed(err, wait)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
	case <-p.wake:
	}
	return true
}

// dial connects to the upstream once. The upstream's calls to this side
// are refused: a gateway does not pass callbacks on.
func (p *pool) dial() (*talk.Peer, error) {
	limits := p.srv.state.Load().cfg.Limits
	ctx, cancel := context.WithTimeout(p.ctx, limits.DialTimeout)
	defer cancel()
	opts := []talk.Option{talk.WithHandler(refuseCallbacks), talk.WithMaxFrameSize(limits.MaxFrameSize)}
	if p.proc != nil {
		return p.proc.dial(ctx, opts...)
	}
	var tlsConfig *tls.Config
	if p.certs != nil {
		tlsConfig = p.certs.ClientConfig()
	}
	if p.serverName != "" {
		if tlsConfig == nil {
			tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tlsConfig.ServerName = p.serverName
	}
	if tlsConfig != nil {
		opts = append(opts, talk.WithTransportOptions(transport.WithTLSConfig(tlsConfig)))
	}
	return talk.Dial(ctx, p.addr, opts...)
}

var refuseCallbacks = rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
	r.Error(rpc.Errorf(rpc.CodeUnimplemented, "a qtalk gateway does not serve calls from its upstreams"))
})

func (p *pool) setDialing() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dialing = true
	p.notifyLocked()
}

func (p *pool) failed(err error, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dialing, p.lastErr, p.retryAt = false, err, time.Now().Add(wait)
	p.notifyLocked()
}

func (p *pool) connected(peer *talk.Peer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dialing, p.peer, p.lastErr = false, peer, nil
	p.notifyLocked()
	for b := range p.backends {
		b.connected(p, peer)
	}
}

func (p *pool) disconnected(peer *talk.Peer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.peer = nil
	p.lastErr = context.Cause(peer.Context())
	p.notifyLocked()
	for b := range p.backends {
		b.disconnected(p)
	}
}

// attach makes b follow the session, telling it at once if it is up.
func (p *pool) attach(b *remote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends[b] = struct{}{}
	if p.peer != nil {
		b.connected(p, p.peer)
	}
}

// detach stops b following the session, telling it the session is gone
// for it.
func (p *pool) detach(b *remote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.backends[b]; ok && p.peer != nil {
		b.disconnected(p)
	}
	delete(p.backends, b)
}

// acquire counts a forwarded call, which keeps a retired pool open.
func (p *pool) acquire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight++
}

func (p *pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if p.retired && p.inflight == 0 {
		p.closeLocked()
	}
}

// retire closes the pool once its calls in flight are done.
func (p *pool) retire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired = true
	if p.inflight == 0 {
		p.closeLocked()
	}
}

func (p *pool) closeLocked() {
	if !p.closedPool {
		p.closedPool = true
		p.cancel() // the loop closes the session and returns
		p.notifyLocked()
		p.srv.logger.Debug("provider closed", slog.String("type", "provider"), slog.String("id", p.addr))
	}
}
