package config

import (
	"time"

	"github.com/qtalkkit/qtalk/transport"
)

// maxGridHosts bounds the hosts of a [grid] table.
const maxGridHosts = 1024

// grid decodes the [grid] table: self, hosts, ping_interval, ping_timeout.
func (p *parser) grid(e entry) (*Grid, error) {
	es, err := p.table(e)
	if err != nil {
		return nil, err
	}
	g := &Grid{}
	for _, f := range es {
		switch f.name {
		case "self":
			g.Self, err = p.str(f)
			if err == nil {
				err = p.gridAddress(f, g.Self)
			}
		case "hosts":
			g.Hosts, err = p.strings(f)
			if err == nil && len(g.Hosts) > maxGridHosts {
				err = p.fail(f, "more than %d hosts", maxGridHosts)
			}
			for _, h := range g.Hosts {
				if err == nil {
					err = p.gridAddress(f, h)
				}
			}
		case "ping_interval":
			g.PingInterval, err = p.duration(f, minGridPing)
		case "ping_timeout":
			g.PingTimeout, err = p.duration(f, minGridPing)
		default:
			err = p.unknown(f, "self", "hosts", "ping_interval", "ping_timeout")
		}
		if err != nil {
			return nil, err
		}
	}
	if g.Self == "" {
		return nil, p.fail(e, "missing self (this server's address in the grid)")
	}
	return g, nil
}

// minGridPing is the shortest ping interval or timeout of a grid.
const minGridPing = 10 * time.Millisecond

// gridAddress checks a host address of the grid: one that can be both
// listened on and dialed.
func (p *parser) gridAddress(e entry, s string) error {
	a, err := transport.ParseAddress(s)
	if err != nil {
		return p.fail(e, "%w", err)
	}
	switch a.Scheme {
	case "exec", "stdio":
		return p.fail(e, "%q cannot be a grid host: a host must be dialed and listened on", s)
	}
	return nil
}
