package config

import (
	"time"

	"github.com/qtalkkit/qtalk/transport"
)

// maxRoutes bounds the routes of a config.
const maxRoutes = 1024

// routes decodes the [routes] table.
func (p *parser) routes(e entry) ([]*Route, error) {
	es, err := p.table(e)
	if err != nil {
		return nil, err
	}
	if len(es) > maxRoutes {
		return nil, p.fail(e, "more than %d routes", maxRoutes)
	}
	var out []*Route
	for _, e := range es {
		r, err := p.route(e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (p *parser) route(e entry) (*Route, error) {
	es, err := p.table(e)
	if err != nil {
		return nil, err
	}
	r := &Route{Name: e.name, Line: e.line}
	for _, e := range es {
		switch e.name {
		case "from":
			r.From, err = p.routeAddress(e, "exec", "exec addresses can only be dialed")
		case "to":
			r.To, err = p.routeAddress(e, "", "")
		case "max_conns":
			r.MaxConns, err = p.integer(e, 0, maxCount)
		case "idle_timeout":
			r.IdleTimeout, err = p.duration(e, time.Millisecond)
		default:
			err = p.unknown(e, "from", "to", "max_conns", "idle_timeout")
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case r.From == "":
		return nil, p.fail(e, "missing from (the address to listen on)")
	case r.To == "":
		return nil, p.fail(e, "missing to (the address to forward to)")
	}
	return r, nil
}

// routeAddress decodes an address of a route, which cannot be stdio (a
// server has no terminal to pipe) nor of the scheme refused, for why.
func (p *parser) routeAddress(e entry, refused, why string) (string, error) {
	s, err := p.str(e)
	if err != nil {
		return "", err
	}
	a, err := transport.ParseAddress(s)
	switch {
	case err != nil:
		return "", p.fail(e, "%w", err)
	case a.Scheme == "stdio":
		return "", p.fail(e, "bad address %q: a server's route cannot use stdio", s)
	case a.Scheme == refused:
		return "", p.fail(e, "bad address %q: %s", s, why)
	}
	return s, nil
}
