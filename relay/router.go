package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/transport"
)

// A Route forwards the connections accepted on From to new connections to
// To, as `qtalk pipe FROM TO` and an entry of qtalk.toml's [routes] do.
type Route struct {
	// Name names the route in logs and errors.
	Name string

	// From is the address listened on. With a subport
	// ("tcp://0.0.0.0:4300!files") the listener takes a preamble from each
	// client and this route gets the clients naming that subport; routes
	// with other subports may share the listener. Without one, every
	// connection goes to this route, which then has the listener alone.
	From string

	// To is the address dialed for each connection (see Dial).
	To string

	// MaxConns bounds the connections piped at once; a connection beyond
	// it is refused: with a reason if it sent a preamble, otherwise closed
	// at once. 0 for no bound.
	MaxConns int

	// IdleTimeout ends a pipe that moved no byte for that long; 0 takes
	// the router's Config.IdleTimeout.
	IdleTimeout time.Duration
}

// A Router serves routes (see the package documentation). Its methods are
// safe for concurrent use.
type Router struct {
	cfg   Config
	log   *slog.Logger
	opts  []transport.Option
	ended func(Route, error)

	ctx    context.Context // ends every pipe when Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loops and the pipes

	mu        sync.Mutex           // guards listeners and closed; held by Update and Close
	listeners map[string]*listener // by listenKey
	closed    bool
}

// A RouterOption configures a Router.
type RouterOption func(*Router)

// WithLogger logs the router's events: listeners opened and closed,
// connections refused, pipes that ended with an error (at the info level;
// every pipe at the debug level). By default nothing is logged.
func WithLogger(l *slog.Logger) RouterOption { return func(r *Router) { r.log = l } }

// WithTransportOptions sets the options of listening and dialing, such as
// TLS configurations.
func WithTransportOptions(opts ...transport.Option) RouterOption {
	return func(r *Router) { r.opts = append(r.opts, opts...) }
}

// WithPipeEnded calls f, on the pipe's goroutine, after each pipe of a
// route has ended (with the error Join returned) or could not reach the
// route's target (with why). The pipe no longer counts against the
// route's MaxConns when f runs.
func WithPipeEnded(f func(Route, error)) RouterOption { return func(r *Router) { r.ended = f } }

// NewRouter returns a Router with no routes; cfg may be nil for the
// defaults.
func NewRouter(cfg *Config, opts ...RouterOption) *Router {
	r := &Router{cfg: cfg.withDefaults(), log: slog.New(slog.DiscardHandler), listeners: map[string]*listener{}}
	for _, o := range opts {
		o(r)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// A listener is one From address and the routes that share it.
type listener struct {
	addr     string // From without its subport
	subports bool   // clients send a preamble
	ln       transport.ConnListener
	routes   atomic.Pointer[map[string]*routeState] // by subport ("" without subports); replaced by Update
}

// routeState is a route and its connections at once. It lives as long as
// a route of its From address and subport does, across Updates.
type routeState struct {
	route  atomic.Pointer[Route]
	active atomic.Int64
}

// listenKey is the key of a listener: the address and whether clients
// name subports (a listener changing that is a new one).
func listenKey(addr string, subports bool) string {
	if subports {
		return addr + "!"
	}
	return addr
}

// parsedRoute is a route checked by Update.
type parsedRoute struct {
	Route
	addr, subport string
}

// CheckRoutes reports, with an error matching ErrBadRoute, what keeps
// routes from being served together (what Update would refuse): a
// malformed address or limit, two routes with the same From and
// subport, or a From taken by a route without a subport and another.
func CheckRoutes(routes []Route) error {
	_, err := check(routes)
	return err
}

// check parses the addresses of routes and checks that they can be
// served together.
func check(routes []Route) ([]parsedRoute, error) {
	var out []parsedRoute
	plain := map[string]string{}           // listen address -> the route that has it alone
	subs := map[string]map[string]string{} // listen address -> subport -> route
	bad := func(rt Route, format string, args ...any) error {
		return fmt.Errorf("%w: route %q: %s", ErrBadRoute, rt.Name, fmt.Sprintf(format, args...))
	}
	for _, rt := range routes {
		from, err := transport.ParseAddress(rt.From)
		if err != nil {
			return nil, bad(rt, "from: %v", err)
		}
		if _, err := transport.ParseAddress(rt.To); err != nil {
			return nil, bad(rt, "to: %v", err)
		}
		if rt.MaxConns < 0 || rt.IdleTimeout < 0 {
			return nil, bad(rt, "negative limit")
		}
		sub := from.Subport
		if len(sub) > maxSubportLen {
			return nil, bad(rt, "subport longer than %d bytes", maxSubportLen)
		}
		from.Subport = ""
		addr := from.String()
		if other, ok := plain[addr]; ok {
			return nil, bad(rt, "%s is taken by route %q, which has no subport", addr, other)
		}
		if sub == "" {
			if m := subs[addr]; len(m) > 0 {
				return nil, bad(rt, "%s has routes with subports; this one needs a subport too", addr)
			}
			plain[addr] = rt.Name
		} else {
			if subs[addr] == nil {
				subs[addr] = map[string]string{}
			}
			if other, ok := subs[addr][sub]; ok {
				return nil, bad(rt, "subport %q of %s is taken by route %q", sub, addr, other)
			}
			subs[addr][sub] = rt.Name
		}
		out = append(out, parsedRoute{Route: rt, addr: addr, subport: sub})
	}
	return out, nil
}

// Update makes routes the router's routes. Listeners no route uses any
// more are closed first, then new ones opened (ctx bounds opening them);
// the connections already piped go on whatever their route became. A
// route keeps its count of connections across Updates while its From
// stays. If a route is malformed (ErrBadRoute) nothing changes; if a
// listener fails to open, the error says which and the others are
// served.
func (r *Router) Update(ctx context.Context, routes []Route) error {
	parsed, err := check(routes)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("relay: update: %w", net.ErrClosed)
	}
	tables := map[string]map[string]*routeState{}
	byKey := map[string]parsedRoute{} // one route of each listener, for its address
	for _, pr := range parsed {
		key := listenKey(pr.addr, pr.subport != "")
		if tables[key] == nil {
			tables[key] = map[string]*routeState{}
		}
		st := (*routeState)(nil)
		if l := r.listeners[key]; l != nil {
			st = (*l.routes.Load())[pr.subport]
		}
		if st == nil {
			st = new(routeState)
		}
		rt := pr.Route
		st.route.Store(&rt)
		tables[key][pr.subport] = st
		byKey[key] = pr
	}
	for key, l := range r.listeners {
		if tables[key] == nil {
			l.ln.Close()
			delete(r.listeners, key)
			r.log.Info("route listener closed", "addr", l.addr)
		}
	}
	var errs []error
	for key, table := range tables {
		if l := r.listeners[key]; l != nil {
			l.routes.Store(&table)
			continue
		}
		pr := byKey[key]
		ln, err := transport.ListenConns(ctx, pr.addr, r.opts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("relay: route %q: %w", pr.Name, err))
			continue
		}
		l := &listener{addr: pr.addr, subports: pr.subport != "", ln: ln}
		l.routes.Store(&table)
		r.listeners[key] = l
		r.log.Debug("route listening", "addr", pr.addr, "listened", ln.Addr().String())
		r.wg.Go(func() { r.accept(l) })
	}
	return errors.Join(errs...)
}

// Addr returns the address the listener of from listens on (with the port
// the system chose for port 0), or nil if no route has from.
func (r *Router) Addr(from string) net.Addr {
	a, err := transport.ParseAddress(from)
	if err != nil {
		return nil
	}
	sub := a.Subport
	a.Subport = ""
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.listeners[listenKey(a.String(), sub != "")]; l != nil {
		return l.ln.Addr()
	}
	return nil
}

// Close closes the listeners and every pipe, and waits for their
// goroutines.
func (r *Router) Close() error {
	r.mu.Lock()
	r.closed = true
	for key, l := range r.listeners {
		l.ln.Close()
		delete(r.listeners, key)
	}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// accept serves the connections of l until it is closed.
func (r *Router) accept(l *listener) {
	for {
		conn, err := l.ln.AcceptConn(r.ctx)
		if err != nil {
			if !errors.Is(err, transport.ErrListenerClosed) && r.ctx.Err() == nil {
				r.log.Error("route listener failed", "addr", l.addr, "err", err)
			}
			return
		}
		r.wg.Go(func() { r.serve(l, conn) })
	}
}

// serve pipes one accepted connection to its route's target.
func (r *Router) serve(l *listener, conn io.ReadWriteCloser) {
	sub := ""
	if l.subports {
		err := handshake(r.ctx, conn, r.cfg.HandshakeTimeout, func() error {
			var err error
			sub, err = readRequest(conn)
			return err
		})
		if err != nil {
			r.log.Info("route preamble failed", "addr", l.addr, "err", err)
			conn.Close()
			return
		}
	}
	st := (*l.routes.Load())[sub]
	if st == nil {
		r.refuse(l, conn, sub, fmt.Sprintf("unknown subport %q", sub))
		return
	}
	rt := *st.route.Load()
	if n := st.active.Add(1); rt.MaxConns > 0 && n > int64(rt.MaxConns) {
		st.active.Add(-1)
		r.refuse(l, conn, sub, fmt.Sprintf("route %s is at its limit of %d connections", rt.Name, rt.MaxConns))
		return
	}
	err := r.pipe(l, rt, conn, sub)
	st.active.Add(-1) // before ended: a dial it prompts finds the slot free
	if r.ended != nil {
		r.ended(rt, err)
	}
}

// pipe dials rt's target for conn, answers the preamble if there was one,
// and joins the two.
func (r *Router) pipe(l *listener, rt Route, conn io.ReadWriteCloser, sub string) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.DialTimeout)
	target, err := Dial(ctx, rt.To, &r.cfg, r.opts...)
	cancel()
	if err != nil {
		r.log.Info("route target unreachable", "route", rt.Name, "to", rt.To, "err", err)
		r.refuse(l, conn, sub, fmt.Sprintf("route %s cannot reach its target: %v", rt.Name, err))
		return err
	}
	if l.subports {
		if _, err := conn.Write([]byte{answerAccept}); err != nil {
			conn.Close()
			target.Close()
			return err
		}
	}
	cfg := r.cfg
	if rt.IdleTimeout > 0 {
		cfg.IdleTimeout = rt.IdleTimeout
	}
	r.log.Debug("pipe started", "route", rt.Name)
	err = Join(r.ctx, conn, target, &cfg)
	if err != nil && r.ctx.Err() == nil {
		r.log.Info("pipe ended", "route", rt.Name, "err", err)
	} else {
		r.log.Debug("pipe ended", "route", rt.Name)
	}
	return err
}

// refuse answers a preamble with reason, if the client sent one, and
// closes conn.
func (r *Router) refuse(l *listener, conn io.ReadWriteCloser, sub, reason string) {
	r.log.Info("route refused", "addr", l.addr, "subport", sub, "reason", reason)
	if l.subports {
		handshake(r.ctx, conn, r.cfg.HandshakeTimeout, func() error {
			_, err := conn.Write(appendRefusal(nil, reason))
			return err
		})
	}
	conn.Close()
}
