package service

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/auth"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

// A state is what a server serves under one config. Reload builds the
// next one, reusing what did not change, and swaps it in: calls pick the
// state once, when they arrive, so calls in flight finish with the
// backends they started with.
type state struct {
	cfg      *config.Config
	services map[string]*service
	hosts    map[string][]*service // the upstream services by the hosts labels may name
	tokens   *auth.Tokens          // of cfg.Tokens, or nil
}

// A service is a configured service: its settings and its backend, a
// local module or an upstream.
type service struct {
	cfg      *config.Service
	mod      *Module  // of a local service
	remote   *remote  // of an upstream service
	breaker  *breaker // of an upstream service
	fallback *service // or nil
}

// resolve finds the service of a label. A label with a host names an
// upstream service by its upstream name: only the hosts of configured
// upstreams are reachable.
func (st *state) resolve(l label.Label) (*service, error) {
	if l.Host == "" {
		if svc := st.services[l.Module]; svc != nil {
			return svc, nil
		}
		return nil, rpc.Errorf(rpc.CodeNotFound, "no service %q for %q", l.Module, l.String())
	}
	svcs, ok := st.hosts[l.Host]
	if !ok {
		return nil, rpc.Errorf(rpc.CodePermissionDenied, "%q names the host %q, which is not a configured provider: only configured upstreams are reachable", l.String(), l.Host)
	}
	for _, svc := range svcs {
		if svc.cfg.Service == l.Module {
			return svc, nil
		}
	}
	return nil, rpc.Errorf(rpc.CodeNotFound, "no service %q configured at host %q for %q", l.Module, l.Host, l.String())
}

// hostsOf returns the hosts labels may give to reach an upstream service:
// its configured host, and the host of its provider's address with and
// without the port.
func hostsOf(sc *config.Service) []string {
	var hosts []string
	if sc.Host != "" {
		hosts = append(hosts, sc.Host)
	}
	if a, err := transport.ParseAddress(sc.Provider); err == nil && a.Host != "" {
		h := strings.ToLower(a.Host)
		hosts = append(hosts, h)
		if name, _, err := net.SplitHostPort(h); err == nil {
			if strings.Contains(name, ":") {
				name = "[" + name + "]"
			}
			hosts = append(hosts, name)
		}
	}
	return hosts
}

// sortedServices returns the services of cfg in the order of the file.
func sortedServices(cfg *config.Config) []*config.Service {
	out := make([]*config.Service, 0, len(cfg.Services))
	for _, sc := range cfg.Services {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Reload applies cfg: services added, removed and changed take effect,
// and so do the listen addresses and limits. Services whose backend did
// not change (the same module and options, or the same provider and
// upstream name) keep running as they are, with their calls and streams
// in flight and their upstream sessions; changed and removed ones close
// (local modules) or stop taking calls (upstreams, whose sessions close
// once their calls in flight are done). A reload also reopens the local
// modules that closed themselves.
//
// If cfg cannot be applied (a module is not compiled in or fails to
// open, an address cannot be listened on, routes conflict), Reload
// changes nothing and returns why, as a *config.Error for the problems
// of a service or of the routes. The routes change last, without cutting
// the connections they pipe; a route whose address cannot be listened
// on is reported as a *config.Error for key routes once the rest is
// applied.
//
// Reloads run one at a time. The factories and OnClose functions of the
// modules run without the server's locks, so they may call its methods,
// but not Start, Reload, Close or Shutdown, which may wait for them.
func (s *Server) Reload(cfg *config.Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := s.checkReload(); err != nil {
		return err
	}
	old := s.state.Load() // only Reload, under reloadMu, stores it
	if err := checkRoutes(cfg); err != nil {
		return err
	}
	order := sortedServices(cfg)
	for _, sc := range order {
		if _, ok := factory(sc.Module); sc.Local() && !ok {
			return cfg.ServiceError(sc, "module", fmt.Errorf("%w %q (compiled in: %s)", ErrUnknownModule, sc.Module, strings.Join(Modules(), ", ")))
		}
	}

	// Make the modules next needs first, with mu unlocked: their
	// factories are the code of users.
	opened := map[string]*Module{} // by service name
	closeOpened := func() {
		for _, m := range opened {
			m.close()
		}
	}
	for _, sc := range order {
		if !sc.Local() || reusable(old.services[sc.Name], sc) {
			continue
		}
		m, err := s.openModule(sc)
		if err != nil {
			closeOpened()
			return cfg.ServiceError(sc, "module", err)
		}
		opened[sc.Name] = m
	}

	// Bind the new addresses with mu unlocked too (see listen).
	var added map[string]*listener
	var fresh []transport.Listener
	if s.isServing() {
		var err error
		if added, fresh, err = s.listen(s.ctx, cfg); err != nil {
			closeOpened()
			return err
		}
	}

	s.mu.Lock()
	next, newRemotes, err := s.swapLocked(cfg, old, order, opened, added)
	s.mu.Unlock()
	if err != nil {
		closeOpened()
		closeListeners(fresh)
		return err
	}

	// Close what is gone before opening what is new, so that subscribers
	// of a name replaced see it close, then open. OnClose functions run
	// here, with mu unlocked.
	for name, o := range old.services {
		switch svc := next.services[name]; {
		case o.mod != nil && (svc == nil || svc.mod != o.mod):
			o.mod.close()
		case o.remote != nil && (svc == nil || svc.remote != o.remote):
			o.remote.retire()
		}
		if next.services[name] == nil {
			s.hub.forget(name)
			s.logger.Info("service removed", "type", "service", "id", name)
		}
	}
	for _, sc := range order {
		s.hub.known(sc.Name)
		if m := opened[sc.Name]; m != nil {
			m.open()
			s.logger.Info("service open", "type", "service", "id", m.name, "module", m.path)
		}
	}
	for _, b := range newRemotes {
		b.attach()
		s.logger.Info("service configured", "type", "service", "id", b.name, "provider", b.prov.sc.Provider, "upstream", b.upstream)
	}
	if s.isServing() {
		s.startProcesses(next, order)
	}
	s.logger.Info("config applied", "type", "config", "id", cfg.File, "services", len(next.services))
	return s.updateRoutes(s.ctx, cfg)
}

// checkReload reports whether the server takes reloads.
func (s *Server) checkReload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed() || s.stopping {
		return ErrServerClosed
	}
	return nil
}

// reusable reports whether the local service sc can keep the module of
// o, what it was before.
func reusable(o *service, sc *config.Service) bool {
	return o != nil && o.mod != nil && o.cfg.SameBackend(sc) && o.mod.isOpen()
}

// isServing reports whether Start was called.
func (s *Server) isServing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serving
}

// swapLocked makes the state of cfg from old, with the modules opened
// for it and the listeners of its addresses (added, from listen), and
// swaps it in. It returns the
// remotes made for it, to attach once the services gone are closed. If
// it fails, or the server closed or began to shut down while the modules
// opened, nothing changes.
func (s *Server) swapLocked(cfg *config.Config, old *state, order []*config.Service, opened map[string]*Module, added map[string]*listener) (*state, []*remote, error) {
	if s.isClosed() || s.stopping {
		return nil, nil, ErrServerClosed
	}
	next := &state{cfg: cfg, services: map[string]*service{}, hosts: map[string][]*service{}}
	if cfg.Tokens != "" {
		var err error
		if next.tokens, err = auth.LoadTokens(cfg.Tokens); err != nil {
			return nil, nil, fmt.Errorf("service: tokens: %w", err)
		}
	}
	var newRemotes []*remote           // made for next
	usedPools := map[*provider]bool{}  // by next
	newPools := map[string]*provider{} // made for next
	for _, sc := range order {
		o := old.services[sc.Name]
		svc := &service{cfg: sc}
		switch {
		case sc.Local():
			svc.mod = opened[sc.Name]
			if svc.mod == nil {
				svc.mod = o.mod // reusable
			}
		case o != nil && o.remote != nil && o.cfg.SameBackend(sc):
			svc.remote = o.remote
		default:
			key := providerKey(sc)
			p := s.pools[key]
			if p == nil {
				p = newPools[key]
			}
			if p == nil {
				var err error
				if p, err = newProvider(s, sc); err != nil {
					for _, p := range newPools {
						p.retire()
					}
					return nil, nil, cfg.ServiceError(sc, "cert", err)
				}
				if sc.IsProcess() {
					e := p.ends[0] // a process is one endpoint
					e.pool.proc = newProcess(s, e.pool.ctx, sc, cfg.Limits)
				}
				newPools[key] = p
			}
			svc.remote = newRemote(s, sc.Name, sc.Service, p)
			newRemotes = append(newRemotes, svc.remote)
		}
		if svc.remote != nil {
			usedPools[svc.remote.prov] = true
			if o != nil && o.remote == svc.remote && o.cfg.Breaker == sc.Breaker {
				svc.breaker = o.breaker
			} else {
				svc.breaker = s.newBreaker(sc)
			}
			for _, h := range hostsOf(sc) {
				next.hosts[h] = append(next.hosts[h], svc)
			}
		}
		next.services[sc.Name] = svc
	}
	for _, svc := range next.services {
		if fb := svc.cfg.Fallback; fb != "" {
			svc.fallback = next.services[fb]
		}
	}

	s.state.Store(next)
	for addr, p := range newPools {
		s.pools[addr] = p
	}
	for addr, p := range s.pools {
		if !usedPools[p] {
			delete(s.pools, addr)
			p.retire()
		}
	}
	if s.serving {
		s.commitListeners(cfg, added)
	}
	return next, newRemotes, nil
}

// openModule makes the module of a local service, recovering a panic of
// its factory.
func (s *Server) openModule(sc *config.Service) (_ *Module, err error) {
	f, _ := factory(sc.Module)
	name := sc.Name
	m := newModule(name, sc.Module, sc.Options, func(event string, param any) {
		s.hub.publish(name, event, param)
	})
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s: panic: %v", ErrModuleFailed, sc.Module, p)
		}
		if err != nil {
			m.close() // never open: no event, but its OnClose functions run
		}
	}()
	if err := f(m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModuleFailed, sc.Module, err)
	}
	return m, nil
}

// newBreaker makes the circuit breaker of an upstream service.
func (s *Server) newBreaker(sc *config.Service) *breaker {
	name := sc.Name
	return &breaker{
		threshold: sc.Breaker.Failures,
		cooldown:  sc.Breaker.Cooldown,
		now:       func() time.Time { return (*s.now.Load())() },
		changed: func(open bool) {
			if open {
				s.logger.Warn("circuit open", "type", "service", "id", name, "cooldown", sc.Breaker.Cooldown)
			} else {
				s.logger.Info("circuit closed", "type", "service", "id", name)
			}
		},
	}
}
