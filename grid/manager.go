package grid

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

// A Manager keeps this host's links to the other hosts of a grid and
// serves the handlers registered on it to all of them. Its methods are
// safe for concurrent use.
type Manager struct {
	cfg   Config
	mux   *rpc.RespondMux
	links map[string]*link // by canonical address; fixed by New

	// pingCall makes the call of each ping: callPing, which tests wrap
	// (export_test.go) before Start.
	pingCall func(ctx context.Context, p *talk.Peer) error

	mu       sync.Mutex                 // guards the fields below
	life     lifecycle                  // guarded by mu
	sessions map[mux.Session]*link      // guarded by mu; the greeted sessions and their links
	pending  map[mux.Session]*talk.Peer // guarded by mu; accepted sessions not greeted yet
	cancel   context.CancelFunc         // guarded by mu; ends what Start started
	wg       sync.WaitGroup             // the goroutines Start started
}

// lifecycle is where a Manager stands.
type lifecycle int

const (
	created lifecycle = iota
	started
	closed
)

// New returns a Manager for cfg. It neither listens nor dials until
// Start. It fails with an error matching ErrBadConfig for an address
// that does not parse.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:      cfg,
		mux:      rpc.NewRespondMux(),
		links:    map[string]*link{},
		sessions: map[mux.Session]*link{},
		pending:  map[mux.Session]*talk.Peer{},
		pingCall: callPing,
	}
	for _, h := range cfg.Hosts {
		m.links[h] = newLink(m, h)
	}
	m.mux.HandleFunc(selectorHello, m.serveHello)
	m.mux.HandleFunc(selectorPing, m.guard(func(r rpc.Responder, c *rpc.Call) { r.Return(nil) }))
	return m, nil
}

// Self returns this host's canonical address.
func (m *Manager) Self() string { return m.cfg.Self }

// Start listens on Self (or serves Config.Listener) and starts keeping a
// link to every other host. The ctx bounds listening only; the links last
// until Close.
func (m *Manager) Start(ctx context.Context) error {
	ln := m.cfg.Listener
	if ln == nil {
		var err error
		ln, err = transport.Listen(ctx, m.cfg.Self, m.cfg.TransportOptions...)
		if err != nil {
			return fmt.Errorf("grid: %w", err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.life != created {
		ln.Close()
		if m.life == closed {
			return ErrClosed
		}
		return fmt.Errorf("grid: Start called twice")
	}
	m.life = started
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Go(func() { m.accept(runCtx, ln) })
	for _, l := range m.links {
		m.wg.Go(func() { l.run(runCtx) })
	}
	return nil
}

// Close closes the listener and every link, cancelling the requests in
// flight both ways, and waits for the Manager's goroutines to exit.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.life == closed {
		m.mu.Unlock()
		return nil
	}
	wasStarted := m.life == started
	m.life = closed
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	if !wasStarted && m.cfg.Listener != nil {
		m.cfg.Listener.Close()
	}
	m.wg.Wait()
	return nil
}

// Connection returns the handle to the host at addr, which must be one of
// the configured hosts other than Self (compared in canonical form); it
// fails with ErrUnknownHost otherwise.
func (m *Manager) Connection(addr string) (*Connection, error) {
	a, err := canonical(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownHost, err)
	}
	l, ok := m.links[a]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownHost, a)
	}
	return &Connection{l: l}, nil
}

// Connections returns the handles to every other host, sorted by address.
func (m *Manager) Connections() []*Connection {
	out := make([]*Connection, 0, len(m.links))
	for _, l := range m.links {
		out = append(out, &Connection{l: l})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].l.host < out[j].l.host })
	return out
}

// LinkInfo describes a link, for listings such as qtalk:grid.
type LinkInfo struct {
	Host   string `cbor:"host" json:"host"`
	Dialer bool   `cbor:"dialer" json:"dialer"` // this host dials the link
	Status string `cbor:"status" json:"status"`
	Error  string `cbor:"error,omitempty" json:"error,omitempty"`
	Since  string `cbor:"since" json:"since"` // RFC 3339
}

// Links describes every link, sorted by host.
func (m *Manager) Links() []LinkInfo {
	var out []LinkInfo
	for _, c := range m.Connections() {
		st := c.State()
		info := LinkInfo{Host: c.Host(), Dialer: c.l.dialer, Status: st.Status.String(), Since: st.Since.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
		if st.Err != nil {
			info.Error = st.Err.Error()
		}
		out = append(out, info)
	}
	return out
}

// accept serves the listener until ctx ends, giving each accepted session
// DialTimeout to greet.
func (m *Manager) accept(ctx context.Context, ln transport.Listener) {
	defer ln.Close() // closed when accept returns, so that Close frees the address
	context.AfterFunc(ctx, func() { ln.Close() })
	for {
		sess, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.cfg.Logger.Error("grid: accept", "err", err)
			}
			m.closePending()
			return
		}
		p := talk.NewPeer(sess, talk.WithHandler(m.mux))
		m.mu.Lock()
		m.pending[sess] = p
		m.mu.Unlock()
		m.wg.Go(func() { m.awaitHello(ctx, p) })
	}
}

// awaitHello closes p if it has not greeted within DialTimeout.
func (m *Manager) awaitHello(ctx context.Context, p *talk.Peer) {
	t := time.NewTimer(m.cfg.DialTimeout)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-p.Context().Done():
	}
	m.mu.Lock()
	_, waiting := m.pending[p.Session()]
	delete(m.pending, p.Session())
	m.mu.Unlock()
	if waiting {
		p.Close()
	}
}

// closePending closes the accepted sessions that have not greeted.
func (m *Manager) closePending() {
	m.mu.Lock()
	ps := make([]*talk.Peer, 0, len(m.pending))
	for s, p := range m.pending {
		ps = append(ps, p)
		delete(m.pending, s)
	}
	m.mu.Unlock()
	for _, p := range ps {
		p.Session().Close()
	}
}

// serveHello answers the greeting of an accepted session: the dialer must
// be a configured host that dials this one, and it must mean to reach
// this host. The session then becomes the link's.
func (m *Manager) serveHello(r rpc.Responder, c *rpc.Call) {
	var h hello
	if err := c.Receive(&h); err != nil {
		r.Error(err)
		return
	}
	l, ok := m.links[h.From]
	switch {
	case h.To != m.cfg.Self:
		r.Error(rpc.Errorf(rpc.CodePermissionDenied, "grid: this host is %s, not %s", m.cfg.Self, h.To))
		return
	case !ok:
		r.Error(rpc.Errorf(rpc.CodePermissionDenied, "grid: %s is not a host of this grid", h.From))
		return
	case l.dialer:
		r.Error(rpc.Errorf(rpc.CodePermissionDenied, "grid: %s dials %s, not the other way", m.cfg.Self, h.From))
		return
	}
	m.mu.Lock()
	p, ok := m.pending[c.Session()]
	delete(m.pending, c.Session())
	if ok {
		m.sessions[c.Session()] = l
	}
	m.mu.Unlock()
	if !ok {
		r.Error(rpc.Errorf(rpc.CodeFailedPrecondition, "grid: session greeted twice"))
		return
	}
	if err := l.hand(c.Context(), p); err != nil {
		r.Error(err)
		return
	}
	r.Return(nil)
}

// guard wraps the handler of a grid call so that it serves greeted
// sessions only.
func (m *Manager) guard(h rpc.HandlerFunc) rpc.HandlerFunc {
	return func(r rpc.Responder, c *rpc.Call) {
		m.mu.Lock()
		_, ok := m.sessions[c.Session()]
		m.mu.Unlock()
		if !ok {
			r.Error(rpc.Errorf(rpc.CodePermissionDenied, "grid: session has not greeted"))
			return
		}
		h(r, c)
	}
}

// forget drops a session that ended from the greeted ones.
func (m *Manager) forget(s mux.Session) {
	m.mu.Lock()
	delete(m.sessions, s)
	m.mu.Unlock()
}

// dial dials host and greets it, returning the link's peer.
func (m *Manager) dial(ctx context.Context, l *link) (*talk.Peer, error) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.DialTimeout)
	defer cancel()
	sess, err := transport.Dial(ctx, l.host, m.cfg.TransportOptions...)
	if err != nil {
		return nil, err
	}
	p := talk.NewPeer(sess, talk.WithHandler(m.mux))
	m.mu.Lock()
	m.sessions[sess] = l // the other side may call as soon as it has the greeting
	m.mu.Unlock()
	if _, err := p.Call(ctx, selectorHello, hello{From: m.cfg.Self, To: l.host}, nil); err != nil {
		m.forget(sess)
		sess.Close()
		m.wg.Go(func() { p.Close() }) // reaps the peer; its handlers see their context cancelled
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return p, nil
}
