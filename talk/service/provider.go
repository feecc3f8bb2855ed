package service

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

// A provider is where the calls of upstream services go: one address, a
// list, or a DNS name whose records give the addresses. Each address is
// an endpoint with a pool of its own (one session) and, for a provider
// of many, a breaker and health checks of its own. Services with the same
// provider and settings share it.
//
// A DNS provider resolves its name when it starts and again after the
// smallest TTL of the answer's records, or resolve_every if that is
// shorter or the TTL is not known: endpoints that appear get pools, and endpoints that
// leave the answer are drained: no new calls, and their sessions close
// once their calls in flight are done. An answer that fails to come
// keeps the endpoints as they are.
type provider struct {
	srv      *Server
	sc       *config.Service      // the settings; those that tell providers apart are in the key
	certs    *transport.CertFiles // the client certificate and CAs of its services, or nil
	resolver *resolver            // of a DNS provider, or nil
	ctx      context.Context      // ends when the provider is closed
	cancel   context.CancelFunc
	rr       atomic.Uint64 // counts picks, for the turns of round robin

	mu       sync.Mutex
	started  bool                 // guarded by mu; the pools of the endpoints may dial, the loops run
	resolved chan struct{}        // closed once the first answer (or failure) is in
	resolveE error                // guarded by mu; why the last resolving failed
	ends     []*endpoint          // guarded by mu; the endpoints in use, sorted by address
	drained  []*endpoint          // guarded by mu; those that left the answer, until their pools close
	backends map[*remote]struct{} // guarded by mu; told when sessions come and go
	inflight int                  // guarded by mu; forwarded calls
	retired  bool                 // guarded by mu; no longer configured: close once idle
	closed   bool                 // guarded by mu
}

// An endpoint is one address of a provider.
type endpoint struct {
	addr     string
	pool     *pool
	breaker  *breaker // of a provider of many; threshold 0 otherwise
	priority uint16   // SRV: the lower the sooner
	weight   int      // SRV: the share among the endpoints of one priority; at least 1
	inflight atomic.Int64
	current  int // guarded by the provider's mu; smooth weighted round robin
}

// providerKey is what a provider is found by: its address or addresses,
// its TLS files (a reload that changes them dials anew) and, for a
// provider of many, the settings of its endpoints.
func providerKey(sc *config.Service) string {
	if sc.IsProcess() {
		return fmt.Sprintf("%s %+v", sc.Provider, sc.Process)
	}
	key := sc.Provider
	if !sc.TLS.IsZero() {
		key += fmt.Sprintf(" cert=%q key=%q ca=%q", sc.TLS.Cert, sc.TLS.Key, sc.TLS.CA)
	}
	if sc.Many() {
		key += fmt.Sprintf(" balance=%s/%s resolve=%s health=%s breaker=%d/%s scheme=%s",
			sc.Balance, sc.HashParam, sc.ResolveEvery, sc.HealthEvery, sc.Breaker.Failures, sc.Breaker.Cooldown, sc.Scheme)
	}
	return key
}

// newProvider returns the provider of sc. The error, for TLS files that
// cannot be loaded, matches transport.ErrBadTLSFiles.
func newProvider(srv *Server, sc *config.Service) (*provider, error) {
	p := &provider{srv: srv, sc: sc, resolved: make(chan struct{}), backends: map[*remote]struct{}{}}
	if !sc.TLS.IsZero() {
		var err error
		if p.certs, err = transport.LoadTLSFiles(sc.TLS); err != nil {
			return nil, err
		}
	}
	p.ctx, p.cancel = context.WithCancel(srv.ctx)
	if config.IsDNSProvider(sc.Provider) {
		p.resolver = newResolver(sc.Provider, sc.Scheme, srv.resolver)
		return p, nil
	}
	addrs := sc.Endpoints
	if addrs == nil {
		addrs = []string{sc.Provider}
	}
	for _, a := range addrs {
		p.ends = append(p.ends, p.newEndpoint(target{addr: a}))
	}
	slices.SortFunc(p.ends, func(a, b *endpoint) int { return strings.Compare(a.addr, b.addr) })
	close(p.resolved)
	return p, nil
}

func (p *provider) newEndpoint(t target) *endpoint {
	pl := newPool(p.srv, t.addr, p.certs, p.ctx)
	pl.serverName = t.serverName
	e := &endpoint{addr: t.addr, pool: pl, priority: t.priority, weight: max(int(t.weight), 1)}
	e.breaker = &breaker{now: func() time.Time { return (*p.srv.now.Load())() }}
	if p.sc.Many() {
		e.breaker.threshold, e.breaker.cooldown = p.sc.Breaker.Failures, p.sc.Breaker.Cooldown
		log := p.srv.logger.With("type", "endpoint", "id", t.addr)
		e.breaker.changed = func(open bool) {
			if open {
				log.Warn("endpoint ejected", "provider", p.sc.Provider, "cooldown", p.sc.Breaker.Cooldown)
			} else {
				log.Info("endpoint back", "provider", p.sc.Provider)
			}
		}
	}
	return e
}

// start starts resolving, health checks and the pools of the endpoints,
// on the first call or subscription.
func (p *provider) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLocked()
}

func (p *provider) startLocked() {
	if p.started || p.closed {
		return
	}
	p.started = true
	if p.resolver != nil {
		if !p.srv.spawn(p.resolveLoop) {
			close(p.resolved)
		}
	}
	if p.sc.HealthEvery > 0 {
		p.srv.spawn(p.healthLoop)
	}
	for _, e := range p.ends {
		e.pool.start()
	}
}

// process returns the child program of a process service's provider, or
// nil.
func (p *provider) process() *process {
	if p.resolver != nil || len(p.ends) != 1 {
		return nil
	}
	return p.ends[0].pool.proc // a static endpoint: ends does not change
}

// waitResolved waits for the first answer of a DNS provider.
func (p *provider) waitResolved(ctx context.Context) error {
	select {
	case <-p.resolved:
		// Resolved, as it is for all calls but the first: ctx.Done is
		// not asked for, which for a call's context makes a channel.
		return nil
	default:
	}
	select {
	case <-p.resolved:
		return nil
	case <-ctx.Done():
		return rpc.NewError(rpc.CodeOf(ctx.Err()), ctx.Err())
	}
}

// session returns a session to an endpoint, one that is up if there is
// one, for the server's own calls upstream (labels, source).
func (p *provider) session(ctx context.Context) (*talk.Peer, error) {
	p.start()
	if err := p.waitResolved(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	ends := slices.Clone(p.ends)
	p.mu.Unlock()
	if len(ends) == 0 {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "provider %s: no endpoints", p.sc.Provider)
	}
	for _, e := range ends {
		if peer := e.pool.current(); peer != nil {
			return peer, nil
		}
	}
	return ends[0].pool.session(ctx, false)
}

// pick chooses the endpoint of a call, skipping those in tried: an
// ejected endpoint whose cooldown is over (the call is its breaker's
// probe), else one of the healthy endpoints (not ejected, their session
// up or not known to be down) of the lowest SRV priority by the policy,
// hashing key when the policy is hash and key is not "", else one that
// is down (its pool fails the call at once, or dials if urgent).
func (p *provider) pick(ctx context.Context, key string, tried []*endpoint) (e *endpoint, probe bool, err error) {
	p.mu.Lock()
	p.startLocked()
	p.mu.Unlock()
	if err := p.waitResolved(ctx); err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// On the stack for the usual few endpoints: pick runs on every call.
	var healthyBuf, downBuf [8]*endpoint
	healthy, down := healthyBuf[:0], downBuf[:0]
	for _, c := range p.ends {
		switch {
		case slices.Contains(tried, c):
		case c.breaker.probeDue():
			e = c // an ejected endpoint past its cooldown: this call probes it
		case c.breaker.ejected():
		case c.pool.status() == statusDown:
			down = append(down, c)
		default:
			healthy = append(healthy, c)
		}
		if e != nil {
			break
		}
	}
	switch {
	case e != nil:
	case len(healthy) > 0:
		e = p.choose(lowestPriority(healthy), key)
	case len(down) > 0:
		e = down[0]
	}
	if e == nil {
		switch {
		case p.resolveE != nil && len(p.ends) == 0:
			return nil, false, rpc.Errorf(rpc.CodeUnavailable, "provider %s: %v", p.sc.Provider, p.resolveE)
		case len(p.ends) == 0:
			return nil, false, rpc.Errorf(rpc.CodeUnavailable, "provider %s: no endpoints", p.sc.Provider)
		}
		return nil, false, fmt.Errorf("%w: %w", ErrCircuitOpen, rpc.Errorf(rpc.CodeUnavailable, "provider %s: every endpoint is ejected or tried", p.sc.Provider))
	}
	ok, probe, _ := e.breaker.allow()
	if !ok {
		return nil, false, fmt.Errorf("%w: %w", ErrCircuitOpen, rpc.Errorf(rpc.CodeUnavailable, "endpoint %s of %s: ejected", e.addr, p.sc.Provider))
	}
	return e, probe, nil
}

// lowestPriority returns the endpoints of the lowest SRV priority among
// es, in the place of es.
func lowestPriority(es []*endpoint) []*endpoint {
	lo := es[0].priority
	for _, e := range es {
		lo = min(lo, e.priority)
	}
	out := es[:0]
	for _, e := range es {
		if e.priority == lo {
			out = append(out, e)
		}
	}
	return out
}

// choose applies the policy to es, which is not empty. Called with mu
// held.
func (p *provider) choose(es []*endpoint, key string) *endpoint {
	turn := p.rr.Add(1)
	switch {
	case p.sc.Balance == config.BalanceHash && key != "":
		return rendezvous(es, key)
	case p.sc.Balance == config.BalanceLeastOutstanding:
		best := es[int(turn%uint64(len(es)))] // ties go round
		for _, e := range es {
			if e.inflight.Load() < best.inflight.Load() {
				best = e
			}
		}
		return best
	}
	// Smooth weighted round robin: each endpoint gains its weight, the
	// one ahead is taken and pays the total.
	total := 0
	var best *endpoint
	for _, e := range es {
		e.current += e.weight
		total += e.weight
		if best == nil || e.current > best.current {
			best = e
		}
	}
	best.current -= total
	return best
}

// rendezvous returns the endpoint of es with the highest hash of key and
// its address: a key stays on its endpoint while that one is among es,
// and only the keys of an endpoint that leaves move.
func rendezvous(es []*endpoint, key string) *endpoint {
	var best *endpoint
	var bestScore uint64
	for _, e := range es {
		h := fnv.New64a()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(e.addr))
		if s := h.Sum64(); best == nil || s > bestScore {
			best, bestScore = e, s
		}
	}
	return best
}

// update replaces the endpoints with those of an answer: new ones get
// pools, gone ones are drained.
func (p *provider) update(ts []target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.resolveE = nil
	byAddr := map[string]*endpoint{}
	for _, e := range p.ends {
		byAddr[e.addr] = e
	}
	var next []*endpoint
	for _, t := range ts {
		e := byAddr[t.addr]
		if e == nil {
			e = p.newEndpoint(t)
			p.srv.logger.Info("endpoint added", "type", "endpoint", "id", t.addr, "provider", p.sc.Provider)
			for b := range p.backends {
				e.pool.attach(b)
			}
			e.pool.start()
		}
		delete(byAddr, t.addr)
		e.priority, e.weight = t.priority, max(int(t.weight), 1)
		next = append(next, e)
	}
	p.ends = next
	for _, e := range byAddr {
		p.srv.logger.Info("endpoint draining", "type", "endpoint", "id", e.addr, "provider", p.sc.Provider, "inflight", e.inflight.Load())
		p.drained = append(p.drained, e)
		for b := range p.backends {
			e.pool.detach(b)
		}
		e.pool.retire()
	}
	p.drained = slices.DeleteFunc(p.drained, func(e *endpoint) bool { return e.pool.status() == statusClosed })
}

// resolveFailed records why resolving failed; the endpoints stay.
func (p *provider) resolveFailed(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolveE = err
}

// resolveLoop resolves the name until the provider closes.
func (p *provider) resolveLoop() {
	log := p.srv.logger.With("type", "provider", "id", p.sc.Provider)
	first := true
	for {
		ctx, cancel := context.WithTimeout(p.ctx, p.srv.state.Load().cfg.Limits.DialTimeout)
		ts, ttl, hasTTL, err := p.resolver.lookup(ctx)
		cancel()
		next := p.sc.ResolveEvery
		switch {
		case p.ctx.Err() != nil:
		case err != nil:
			log.Warn("resolving failed", "err", err)
			p.resolveFailed(err)
		default:
			p.update(ts)
			next = resolveWait(next, ttl, hasTTL)
			log.Debug("resolved", "endpoints", len(ts), "ttl", ttl, "next", next)
		}
		if first {
			close(p.resolved)
			first = false
		}
		if !wait(p.ctx, next) {
			return
		}
	}
}

// healthLoop pings every endpoint with a session every health_every; a
// failed ping is a failure for its breaker, a ping answered a success
// (and the probe of an ejected endpoint past its cooldown).
func (p *provider) healthLoop() {
	every := p.sc.HealthEvery
	for wait(p.ctx, every) {
		p.mu.Lock()
		ends := slices.Clone(p.ends)
		p.mu.Unlock()
		var wg sync.WaitGroup
		for _, e := range ends {
			peer := e.pool.current()
			if peer == nil {
				continue
			}
			ok, probe, _ := e.breaker.allow()
			if !ok {
				continue
			}
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(p.ctx, every)
				defer cancel()
				o := outcomeSuccess
				if _, err := peer.Ping(ctx, 0); err != nil {
					o = outcomeFailure
					if p.ctx.Err() != nil {
						o = outcomeNone
					}
				}
				e.breaker.report(probe, o)
			})
		}
		wg.Wait()
	}
}

// attach makes b follow the sessions of the endpoints.
func (p *provider) attach(b *remote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends[b] = struct{}{}
	for _, e := range p.ends {
		e.pool.attach(b)
	}
}

func (p *provider) detach(b *remote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.backends, b)
	for _, e := range p.ends {
		e.pool.detach(b)
	}
}

// acquire counts a forwarded call to e, which keeps a retired provider
// and a drained endpoint open.
func (p *provider) acquire(e *endpoint) {
	p.mu.Lock()
	p.inflight++
	p.mu.Unlock()
	e.inflight.Add(1)
	e.pool.acquire()
}

func (p *provider) release(e *endpoint) {
	e.pool.release()
	e.inflight.Add(-1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if p.retired && p.inflight == 0 {
		p.closeLocked()
	}
}

// retire closes the provider once its calls in flight are done.
func (p *provider) retire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired = true
	if p.inflight == 0 {
		p.closeLocked()
	}
}

func (p *provider) closeLocked() {
	if p.closed {
		return
	}
	p.closed = true
	p.cancel()
	for _, e := range p.ends {
		e.pool.retire()
	}
	for _, e := range p.drained {
		e.pool.retire()
	}
}

// EndpointInfo describes an endpoint of an upstream service, for
// LabelServices.
type EndpointInfo struct {
	Addr string `cbor:"addr" json:"addr"`
	// State is "idle" (not dialed yet), "connecting", "connected",
	// "down" (waiting to dial again), "ejected" (by its breaker),
	// "draining" (gone from the DNS answer, its calls finishing) or
	// "closed".
	State    string `cbor:"state" json:"state"`
	InFlight int64  `cbor:"inflight" json:"inflight"`
}

// endpoints describes the endpoints, in use and draining.
func (p *provider) endpoints() []EndpointInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]EndpointInfo, 0, len(p.ends)+len(p.drained))
	for _, e := range p.ends {
		st := e.pool.status().String()
		if e.breaker.ejected() {
			st = "ejected"
		}
		out = append(out, EndpointInfo{Addr: e.addr, State: st, InFlight: e.inflight.Load()})
	}
	for _, e := range p.drained {
		if st := e.pool.status(); st != statusClosed {
			out = append(out, EndpointInfo{Addr: e.addr, State: "draining", InFlight: e.inflight.Load()})
		}
	}
	return out
}
