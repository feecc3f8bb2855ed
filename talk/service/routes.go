package service

import (
	"context"
	"net"

	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/talk/config"
)

// routesOf returns the [routes] of cfg for the router.
func routesOf(cfg *config.Config) []relay.Route {
	routes := make([]relay.Route, len(cfg.Routes))
	for i, r := range cfg.Routes {
		routes[i] = relay.Route{Name: r.Name, From: r.From, To: r.To, MaxConns: r.MaxConns, IdleTimeout: r.IdleTimeout}
	}
	return routes
}

// checkRoutes reports, as a *config.Error, routes of cfg that cannot be
// served together.
func checkRoutes(cfg *config.Config) error {
	if err := relay.CheckRoutes(routesOf(cfg)); err != nil {
		return &config.Error{File: cfg.File, Key: "routes", Err: err}
	}
	return nil
}

// updateRoutes makes the routes of cfg the router's, if the server has
// started. The connections already piped go on. A route whose listener
// fails to open is reported, and the others are served.
func (s *Server) updateRoutes(ctx context.Context, cfg *config.Config) error {
	s.mu.Lock()
	serving := s.serving
	s.mu.Unlock()
	if !serving {
		return nil
	}
	if err := s.routes.Update(ctx, routesOf(cfg)); err != nil {
		return &config.Error{File: cfg.File, Key: "routes", Err: err}
	}
	return nil
}

// RouteAddr returns the address the listener of a route's from address
// listens on (with the port the system chose for port 0), or nil if no
// route of the config in effect has it.
func (s *Server) RouteAddr(from string) net.Addr { return s.routes.Addr(from) }
