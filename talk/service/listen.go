package service

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"

	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

// Start listens on the addresses of the config and serves the sessions
// it accepts in the background, until Close. ctx bounds setting up the
// listeners only. If one fails, Start closes the others and returns its
// error. Reloads open and close listeners as the config's listen list
// changes. Start then listens for the config's [routes] (package relay);
// a route that cannot listen makes Start fail too. Before all that, Start
// joins the config's [grid], if it has one (see Grid).
func (s *Server) Start(ctx context.Context) error {
	if err := s.startGrid(ctx); err != nil {
		return err
	}
	if err := s.startListeners(ctx); err != nil {
		return err
	}
	return s.updateRoutes(ctx, s.state.Load().cfg)
}

// startListeners is Start without the grid and the routes.
func (s *Server) startListeners(ctx context.Context) error {
	s.reloadMu.Lock() // no Reload changes the listeners meanwhile
	defer s.reloadMu.Unlock()
	if err := s.checkStart(); err != nil {
		return err
	}
	cfg := s.state.Load().cfg
	added, fresh, err := s.listen(ctx, cfg)
	if err != nil {
		if m := s.grid; m != nil {
			s.grid = nil
			defer m.Close() // before mu is unlocked: a grid takes no lock of the server
		}
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed() {
		closeListeners(fresh)
		return ErrServerClosed
	}
	s.serving = true
	s.commitListeners(cfg, added)
	s.startProcesses(s.state.Load(), sortedServices(cfg))
	return nil
}

// checkStart reports whether the server may start.
func (s *Server) checkStart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.isClosed():
		return ErrServerClosed
	case s.serving:
		return errors.New("service: server already started")
	}
	return nil
}

// Serve is Start, then serves until ctx ends, when it closes the server
// and returns nil, or until Close, when it returns ErrServerClosed.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return s.Close()
	case <-s.ctx.Done():
		<-s.done
		return ErrServerClosed
	}
}

// Addrs returns the addresses listened on, in the order of the config,
// such as the TCP address with the port the system chose for port 0.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var addrs []net.Addr
	for _, a := range s.lnOrder {
		if ln := s.lns[a]; ln != nil {
			addrs = append(addrs, ln.ln.Addr())
		}
	}
	return addrs
}

// A listener accepts client sessions on one address.
type listener struct {
	id    int    // counted from 1 in the order of binding, for the log
	addr  string // as the config lists it
	ln    transport.Listener
	certs *transport.CertFiles // the config's cert, key and ca of the listener, or nil
}

// listen binds the addresses cfg lists that are not bound yet, closing
// them all again if one fails. An address that names what a listener is
// bound to already (tcp://127.0.0.1:4242 for the listener of
// tcp://127.0.0.1:0 that got port 4242) is that listener. It returns the
// listeners of those addresses, and apart the ones it bound.
//
// It runs with reloadMu held and without mu: binding can take long (a
// name to resolve, certificate files to load), and mu guards what
// sessions and calls need meanwhile. Listeners are added only under
// reloadMu, so the ones it compares with stay as they are.
func (s *Server) listen(ctx context.Context, cfg *config.Config) (added map[string]*listener, fresh []transport.Listener, err error) {
	s.mu.Lock()
	bound := maps.Clone(s.lns)
	s.mu.Unlock()
	added = map[string]*listener{}
	opts := append(slices.Clip(s.listenOpts), transport.WithAllowedOrigins(cfg.AllowOrigins...))
	for _, a := range cfg.Listen {
		if bound[a] != nil || added[a] != nil {
			continue
		}
		if l := boundTo(bound, a); l != nil {
			added[a] = l
			continue
		}
		var certs *transport.CertFiles
		id := s.nextListenerID()
		ln, err := func() (transport.Listener, error) {
			lnOpts := append(slices.Clip(opts), transport.WithLogger(s.logger.With("type", "listener", "id", id)))
			if files, ok := cfg.ListenTLS[a]; ok {
				var err error
				if certs, err = transport.LoadTLSFiles(files); err != nil {
					return nil, err
				}
				lnOpts = append(lnOpts, transport.WithTLSConfig(certs.ServerConfig()))
			}
			return transport.Listen(ctx, a, lnOpts...)
		}()
		if err != nil {
			closeListeners(fresh)
			return nil, nil, &ListenError{Addr: a, Err: err}
		}
		added[a] = &listener{id: id, addr: a, ln: ln, certs: certs}
		fresh = append(fresh, ln)
	}
	return added, fresh, nil
}

// nextListenerID returns the id of a listener about to be bound.
func (s *Server) nextListenerID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastLn++
	return s.lastLn
}

// closeListeners closes the listeners bound for a change that failed.
func closeListeners(lns []transport.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// boundTo returns the listener of bound bound to the address a names, if
// any.
func boundTo(bound map[string]*listener, a string) *listener {
	want, err := transport.ParseAddress(a)
	if err != nil || want.Host == "" {
		return nil
	}
	for _, l := range bound {
		have, err := transport.ParseAddress(l.addr)
		if err != nil || have.Scheme != want.Scheme {
			continue
		}
		have.Host = l.ln.Addr().String()
		if have.String() == want.String() {
			return l
		}
	}
	return nil
}

// originSetter is a listener whose allowed web origins can change, such
// as a ws listener.
type originSetter interface {
	SetAllowedOrigins(patterns ...string) error
}

// allowedOrigins are the origin patterns of a ws listener under cfg: those
// of the listen options (WithListenOptions), then the config's, as
// transport.Listen combines them.
func (s *Server) allowedOrigins(cfg *config.Config) []string {
	var o transport.Options
	for _, opt := range s.listenOpts {
		opt(&o)
	}
	return append(o.AllowedOrigins, cfg.AllowOrigins...)
}

// commitListeners starts accepting on the listeners listen added, closes
// the ones cfg no longer lists and gives those it keeps the origins it
// allows. Sessions already accepted stay.
func (s *Server) commitListeners(cfg *config.Config, added map[string]*listener) {
	want := cfg.Listen
	running := map[*listener]bool{}
	for _, l := range s.lns {
		running[l] = true
	}
	next := map[string]*listener{}
	for _, a := range want {
		l := s.lns[a]
		if l == nil {
			l = added[a]
		}
		next[a] = l
	}
	kept := map[*listener]bool{}
	for _, l := range next {
		kept[l] = true
	}
	for l := range running {
		if !kept[l] {
			l.ln.Close()
			s.logger.Info("stopped listening", "type", "listener", "id", l.id, "addr", l.addr)
		}
	}
	started := map[*listener]bool{}
	for _, a := range want {
		l := next[a]
		if setter, ok := l.ln.(originSetter); ok && running[l] {
			// Parse checked the config's patterns, and Listen those of
			// the options: this cannot fail.
			setter.SetAllowedOrigins(s.allowedOrigins(cfg)...)
		}
		if running[l] {
			s.reloadCerts(l, cfg.ListenTLS[a])
		}
		if running[l] || started[l] {
			continue
		}
		started[l] = true
		if !s.spawn(func() { s.accept(l) }) {
			l.ln.Close()
			continue
		}
		attrs := []any{"type", "listener", "id", l.id, "addr", listenedAddr(a, l.ln.Addr())}
		if f, ok := l.ln.(transport.Fingerprinter); ok && f.Fingerprint() != "" {
			attrs = append(attrs, "fingerprint", f.Fingerprint())
		}
		s.logger.Info("listening", attrs...)
	}
	s.lns = next
	s.lnOrder = append(s.lnOrder[:0], want...)
}

// reloadCerts reads the certificate files of a listener kept by a reload
// again, as a reload on SIGHUP promises. Files of other names take
// effect when the listener is opened anew.
func (s *Server) reloadCerts(l *listener, files transport.TLSFiles) {
	switch {
	case l.certs == nil && files.IsZero():
	case l.certs == nil || l.certs.Files() != files:
		s.logger.Warn("the listener's cert, key or ca changed: they take effect when it is opened again (remove it from listen, reload, add it back)", "type", "listener", "id", l.id, "addr", l.addr)
	default:
		if err := l.certs.Reload(); err != nil {
			s.logger.Error("certificate reload failed: the certificate loaded before stays", "type", "listener", "id", l.id, "addr", l.addr, "err", err)
			return
		}
		s.logger.Info("certificate reloaded", "type", "listener", "id", l.id, "addr", l.addr, "fingerprint", l.certs.Fingerprint())
	}
}

// accept serves the sessions of l until it is closed.
func (s *Server) accept(l *listener) {
	for {
		sess, err := l.ln.Accept(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.logger.Error("accept failed", "type", "listener", "id", l.id, "addr", l.addr, "err", err)
			}
			return
		}
		s.servePeer(sess, l)
	}
}

// ServeSession serves the calls of a session that came some other way
// than the config's listeners (an in-memory pipe, a transport of its
// own), until it ends or the server closes. The server owns sess and
// closes it.
func (s *Server) ServeSession(sess mux.Session) error {
	if s.isClosed() {
		sess.Close()
		return ErrServerClosed
	}
	p := s.servePeer(sess, nil)
	if p == nil {
		return rpc.Errorf(rpc.CodeResourceExhausted, "service: max_sessions reached")
	}
	return p.Wait()
}
