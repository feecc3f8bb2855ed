package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/qtalkkit/qtalk/talk/config"
)

// ErrNoRecords is matched by the error of a DNS provider whose name has
// no records: the endpoints stay as they were.
var ErrNoRecords = errors.New("service: no DNS records")

// A target is an endpoint as DNS gives it.
type target struct {
	addr     string // "tcp://ip:port"
	priority uint16 // of its SRV record
	weight   uint16 // of its SRV record
}

// A resolver finds the endpoints of a DNS provider.
type resolver struct {
	srv  bool   // SRV records, or A and AAAA
	name string // the name looked up
	port uint16 // of A and AAAA records
	net  *net.Resolver
}

// newResolver returns the resolver of provider, checked by package
// config, with r.
func newResolver(provider string, r *net.Resolver) *resolver {
	scheme, rest, _ := strings.Cut(provider, "://")
	if scheme == config.SchemeDNSSRV {
		return &resolver{srv: true, name: rest, net: r}
	}
	host, port, _ := net.SplitHostPort(rest)
	n, _ := strconv.ParseUint(port, 10, 16)
	return &resolver{name: host, port: uint16(n), net: r}
}

// lookup returns the targets, sorted by address.
func (r *resolver) lookup(ctx context.Context) ([]target, error) {
	var ts []target
	if !r.srv {
		ips, err := r.net.LookupNetIP(ctx, "ip", r.name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNoRecords, r.name, err)
		}
		for _, ip := range ips {
			ts = append(ts, target{addr: "tcp://" + netip.AddrPortFrom(ip.Unmap(), r.port).String()})
		}
	} else {
		_, srvs, err := r.net.LookupSRV(ctx, "", "", r.name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNoRecords, r.name, err)
		}
		for _, s := range srvs {
			if s.Target == "." { // "no such service here"
				continue
			}
			ips, err := r.net.LookupNetIP(ctx, "ip", s.Target)
			if err != nil {
				return nil, fmt.Errorf("%w: %s, target of %s: %w", ErrNoRecords, s.Target, r.name, err)
			}
			for _, ip := range ips {
				ts = append(ts, target{addr: "tcp://" + netip.AddrPortFrom(ip.Unmap(), s.Port).String(), priority: s.Priority, weight: s.Weight})
			}
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoRecords, r.name)
	}
	slices.SortFunc(ts, func(a, b target) int { return strings.Compare(a.addr, b.addr) })
	return slices.CompactFunc(ts, func(a, b target) bool { return a.addr == b.addr }), nil
}
