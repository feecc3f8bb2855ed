package service

import (
	"context"
	"github.com/qtalkkit/qtalk/internal/quote"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/grid"
	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

// A Server serves the services of a config (package config) on the
// addresses it lists: local modules, and upstream services it forwards
// to. It is an rpc.Handler too, routing every call by its label. Its
// methods are safe for concurrent use.
type Server struct {
	logger       *slog.Logger
	listenOpts   []transport.Option               // of every listener, besides the config's origins
	interceptors []rpc.Interceptor                // wrap the handling of every call
	metrics      *metrics.Metrics                 // counts calls and sessions (WithMetrics), or nil
	handler      rpc.Handler                      // the server in its interceptors, as sessions are served
	sessionEnded func(listen string)              // WithSessionEnded's, or nil
	now          atomic.Pointer[func() time.Time] // the breakers' clock
	resolver     *net.Resolver                    // of DNS providers
	hub          *hub
	ctx          context.Context // ends with Close
	cancel       context.CancelFunc

	reloadMu sync.Mutex              // serializes Reload and Start; held while factories and OnClose functions run and listeners bind
	state    atomic.Pointer[state]   // what is served; stored under reloadMu and mu
	mu       sync.Mutex              // guards the fields below; never held while the code of modules runs
	pools    map[string]*provider    // guarded by mu; by providerKey
	serving  bool                    // guarded by mu; Start was called
	stopping bool                    // guarded by mu; Shutdown was called: no more reloads
	lns      map[string]*listener    // guarded by mu; by address
	lnOrder  []string                // guarded by mu; the addresses, in config order
	routes   *relay.Router           // the [routes] of the config, once Start was called
	grid     *grid.Manager           // guarded by mu; the grid joined at Start, if the config has one
	peersMu  sync.Mutex              // guards peers and the ids below
	peers    map[*talk.Peer]struct{} // the client sessions
	lastSess int                     // guarded by peersMu; the id of the last session accepted
	lastLn   int                     // guarded by mu; the id of the last listener bound
	procMu   sync.Mutex              // guards procs
	procs    []*process              // the process services' processes, in the order they first started

	inflightMu sync.Mutex
	inflight   int           // guarded by inflightMu; calls in flight
	unlimited  int           // guarded by inflightMu; those of them not counted against max_calls
	draining   bool          // guarded by inflightMu; Shutdown was called
	idle       chan struct{} // guarded by inflightMu; closed when inflight drops to 0 while draining
	drainCtx   context.Context
	drain      context.CancelFunc // ends the subscriptions

	spawnMu sync.Mutex     // guards closed, and orders wg.Add before wg.Wait
	closed  bool           // guarded by spawnMu
	wg      sync.WaitGroup // the goroutines of the server
	done    chan struct{}  // closed when Close is done
}

// An Option configures a Server.
type Option func(*Server)

// WithInterceptors wraps the server's handling of every call in the
// interceptors (see rpc.Intercept), such as a metrics recorder.
func WithInterceptors(interceptors ...rpc.Interceptor) Option {
	return func(s *Server) { s.interceptors = append(s.interceptors, interceptors...) }
}

// WithMetrics makes the server count its calls (m.Interceptor, around
// the interceptors of WithInterceptors) and its client sessions in m.
func WithMetrics(m *metrics.Metrics) Option {
	return func(s *Server) { s.metrics = m }
}

// WithSessionEnded makes the server call f after each client session
// ended, with the listen address of the config it came from ("stdio:"
// for the one session over stdin and stdout; "session" for those of
// ServeSession). f runs in a goroutine of the server and must not call
// its Close or Shutdown.
func WithSessionEnded(f func(listen string)) Option {
	return func(s *Server) { s.sessionEnded = f }
}

// WithResolver makes the server resolve the names of DNS providers
// (dns://, dns+srv://) with r instead of net.DefaultResolver: a test
// points it at a DNS server of its own with r.Dial.
func WithResolver(r *net.Resolver) Option {
	return func(s *Server) { s.resolver = r }
}

// WithLogger sets the logger of the server's events (listening, sessions
// opening and closing, reloads, upstreams coming and going, breakers
// opening), whose records carry the attributes type ("listener",
// "session", "config", "service", "provider", "server") and id (a
// number for listeners and sessions, counted from 1; an address, a file
// or a service name for the others). The calls of each session are
// logged at level debug. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithListenOptions adds options to those of every listener the server
// opens, such as transport.WithHTTPHandler to serve a web page on the ws
// listeners or transport.WithOriginRefused to log the pages refused. The
// config's allow_origins come after them.
func WithListenOptions(opts ...transport.Option) Option {
	return func(s *Server) { s.listenOpts = append(s.listenOpts, opts...) }
}

// New returns a server for cfg, opening its local modules. It does not
// listen yet: Start and Serve do. It fails with a *config.Error for a
// config that names a module not compiled in (matching ErrUnknownModule)
// or whose module fails to open (ErrModuleFailed).
func New(cfg *config.Config, opts ...Option) (*Server, error) {
	s := &Server{
		logger:   slog.Default(),
		resolver: net.DefaultResolver,
		hub:      newHub(),
		pools:    map[string]*provider{},
		lns:      map[string]*listener{},
		peers:    map[*talk.Peer]struct{}{},
		done:     make(chan struct{}),
	}
	now := time.Now
	s.now.Store(&now)
	for _, o := range opts {
		o(s)
	}
	interceptors := s.interceptors
	if s.metrics != nil {
		interceptors = append([]rpc.Interceptor{s.metrics.Interceptor()}, interceptors...)
	}
	s.handler = rpc.Intercept(s, interceptors...)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.drainCtx, s.drain = context.WithCancel(s.ctx)
	s.routes = relay.NewRouter(nil, relay.WithLogger(s.logger.With("type", "route")), relay.WithTransportOptions(s.listenOpts...))
	s.state.Store(&state{cfg: config.Default(), services: map[string]*service{}})
	if err := s.Reload(cfg); err != nil {
		s.cancel()
		return nil, err
	}
	return s, nil
}

// spawn runs f in a goroutine Close waits for, unless the server is
// closed.
func (s *Server) spawn(f func()) bool {
	s.spawnMu.Lock()
	defer s.spawnMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Go(f)
	return true
}

// Config returns the config in effect.
func (s *Server) Config() *config.Config { return s.state.Load().cfg }

func (s *Server) isClosed() bool {
	s.spawnMu.Lock()
	defer s.spawnMu.Unlock()
	return s.closed
}

// Close stops the children of the process services (in the reverse
// order of their first starts, each with SIGTERM, then SIGKILL after its
// stop_timeout), stops listening, closes every session (calls in flight
// end), closes the local modules (their subscribers get "close") and the
// sessions to upstreams, and waits until all of the server's goroutines
// have returned. Later calls wait until the first is done, and return nil.
func (s *Server) Close() error {
	s.spawnMu.Lock()
	if s.closed {
		s.spawnMu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	s.spawnMu.Unlock()
	s.stopProcesses() // in reverse order, before their pools end
	s.cancel()
	s.routes.Close()

	s.mu.Lock()
	for _, l := range s.lns {
		l.ln.Close()
	}
	st := s.state.Load()
	for _, p := range s.pools {
		p.retire()
	}
	s.mu.Unlock()
	s.closeGrid()

	s.peersMu.Lock()
	peers := make([]*talk.Peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.peersMu.Unlock()
	for _, p := range peers {
		p.Close()
	}
	for _, svc := range st.services {
		if svc.mod != nil {
			svc.mod.close()
		}
		if svc.remote != nil {
			svc.remote.retire()
		}
	}
	s.wg.Wait()
	close(s.done)
	s.logger.Info("server closed", "type", "server", "id", s.state.Load().cfg.File)
	return nil
}

// Shutdown stops listening and taking new calls (they are refused with
// rpc.CodeUnavailable, matching rpc.ErrRefused: they did not run, and a
// reconnecting client sends them again over its next session), ends the
// subscriptions, runs the modules' OnShutdown functions, drains every
// client session (talk.Peer.Shutdown: the client told with qtalk:drain,
// the calls in flight finished, the session closed), and closes the
// server. It returns ctx's error if the calls did not end in time: they
// are cut short then.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true // a reload now would listen again
	for a, l := range s.lns {
		l.ln.Close()
		delete(s.lns, a)
	}
	s.mu.Unlock()
	s.drain()
	s.inflightMu.Lock()
	s.draining = true
	s.logger.Info("shutting down", "type", "server", "id", s.state.Load().cfg.File, "calls", s.inflight)
	var idle chan struct{}
	if s.inflight > 0 {
		if s.idle == nil { // else another Shutdown waits on it too
			s.idle = make(chan struct{})
		}
		idle = s.idle
	}
	s.inflightMu.Unlock()
	for _, svc := range s.state.Load().services {
		if svc.mod != nil {
			svc.mod.shutdown()
		}
	}
	s.drainSessions(ctx)
	var err error
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.Close()
	return err
}

// drainSessions shuts the client sessions down gracefully, all at once
// (talk.Peer.Shutdown: their new calls refused, the clients told with
// qtalk:drain, the calls in flight finished), within ctx.
func (s *Server) drainSessions(ctx context.Context) {
	s.peersMu.Lock()
	peers := make([]*talk.Peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.peersMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() { p.Shutdown(ctx) })
	}
	wg.Wait()
}

// begin counts a call in, unless the server is draining or, for a call
// that counts against max_calls (every call but subscriptions, which live
// as long as their subscribers), max_calls is reached.
func (s *Server) begin(limited bool, max int) error {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	switch {
	case s.draining:
		return rpc.Refuse("the server is shutting down") // the call did not run: the client may send it elsewhere
	case limited && max > 0 && s.inflight-s.unlimited >= max:
		return rpc.Errorf(rpc.CodeResourceExhausted, "more than %d calls in flight", max)
	}
	s.inflight++
	if !limited {
		s.unlimited++
	}
	return nil
}

// end counts a call out.
func (s *Server) end(limited bool) {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	s.inflight--
	if !limited {
		s.unlimited--
	}
	if s.inflight == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// RespondRPC serves a call by its label: a built-in label (module qtalk),
// a local service's procedure, or a call to forward upstream. A label
// with a host reaches only a configured upstream with that host; any
// other host is refused with rpc.CodePermissionDenied.
func (s *Server) RespondRPC(r rpc.Responder, c *rpc.Call) {
	st := s.state.Load()
	l, err := label.Parse(c.Selector)
	if err != nil {
		r.Error(rpc.Errorf(rpc.CodeNotFound, "no handler for %s: %w", quote.Bounded(c.Selector), err))
		return
	}
	limited := l.Host != "" || l.Route() != LabelSubscribe
	if err := s.begin(limited, st.cfg.Limits.MaxCalls); err != nil {
		r.Error(err)
		return
	}
	defer s.end(limited)
	if l.Host == "" && l.Module == BuiltinModule {
		s.serveBuiltin(r, c, l)
		return
	}
	svc, err := st.resolve(l)
	if err == nil {
		err = st.authorize(c, svc)
	}
	if err != nil {
		r.Error(err)
		return
	}
	s.serveService(r, c, svc, l, false)
}

// connect starts the providers of the upstream services a subscriber of
// service follows.
func (s *Server) connect(service string) {
	for name, svc := range s.state.Load().services {
		if svc.remote != nil && (service == SubscribeAll || service == name) {
			svc.remote.prov.start()
		}
	}
}
