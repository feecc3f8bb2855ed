package service

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/qtalkkit/qtalk/talk/config"
)

// ErrNoRecords is matched by the error of a DNS provider whose name has
// no records: the endpoints stay as they were.
var ErrNoRecords = errors.New("service: no DNS records")

// A target is an endpoint as DNS gives it.
type target struct {
	addr       string // "scheme://ip:port"
	serverName string // over TLS (tls, quic): the name the certificate must hold; "" for tcp
	priority   uint16 // of its SRV record
	weight     uint16 // of its SRV record
}

// A resolver finds the endpoints of a DNS provider, and how long the
// records that gave them live.
//
// net.Resolver does not tell the TTLs of the records it returns, so the
// resolver's net.Resolver (the Go resolver, over the connections of the
// configured one's Dial, or net.Dialer's) reads the DNS answers that pass
// through its connections and keeps the smallest TTL of their answer
// records. A resolver's lookups are made one at a time (by its provider's
// resolve loop), and the net.Resolver is its own: the answers it sees
// are those of its lookup.
type resolver struct {
	srv    bool   // SRV records, or A and AAAA
	name   string // the name looked up
	port   uint16 // of A and AAAA records
	scheme string // of the endpoints' addresses
	net    *net.Resolver
	base   func(ctx context.Context, network, address string) (net.Conn, error) // dials the name servers

	mu     sync.Mutex
	ttl    uint32 // guarded by mu; the smallest TTL seen since the lookup began
	hasTTL bool   // guarded by mu; an answer record was seen
}

// newResolver returns the resolver of provider, checked by package
// config, whose endpoints are dialed with scheme (config.DNSSchemes), and
// which dials the name servers as r does (nil for net.DefaultResolver).
func newResolver(provider, scheme string, r *net.Resolver) *resolver {
	kind, rest, _ := strings.Cut(provider, "://")
	res := &resolver{name: rest, scheme: scheme}
	if kind == config.SchemeDNSSRV {
		res.srv = true
	} else {
		host, port, _ := net.SplitHostPort(rest)
		n, _ := strconv.ParseUint(port, 10, 16)
		res.name, res.port = host, uint16(n)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	res.base = r.Dial
	if res.base == nil {
		var d net.Dialer
		res.base = d.DialContext
	}
	res.net = &net.Resolver{PreferGo: true, StrictErrors: r.StrictErrors, Dial: res.dial}
	return res
}

// lookup returns the targets, sorted by address, and the smallest TTL of
// the records of the answers, if any came from a DNS server (not, say,
// from /etc/hosts).
func (r *resolver) lookup(ctx context.Context) (ts []target, ttl time.Duration, hasTTL bool, err error) {
	r.mu.Lock()
	r.ttl, r.hasTTL = 0, false
	r.mu.Unlock()
	if ts, err = r.targets(ctx); err != nil {
		return nil, 0, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return ts, time.Duration(r.ttl) * time.Second, r.hasTTL, nil
}

func (r *resolver) targets(ctx context.Context) ([]target, error) {
	var ts []target
	if !r.srv {
		ips, err := r.net.LookupNetIP(ctx, "ip", r.name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNoRecords, r.name, err)
		}
		for _, ip := range ips {
			ts = append(ts, r.target(ip, r.port, r.name))
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
				t := r.target(ip, s.Port, s.Target)
				t.priority, t.weight = s.Priority, s.Weight
				ts = append(ts, t)
			}
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoRecords, r.name)
	}
	slices.SortFunc(ts, func(a, b target) int { return strings.Compare(a.addr, b.addr) })
	return slices.CompactFunc(ts, func(a, b target) bool { return a.addr == b.addr }), nil
}

// target returns the endpoint at ip and port, whose records are those
// of name.
func (r *resolver) target(ip netip.Addr, port uint16, name string) target {
	t := target{addr: r.scheme + "://" + netip.AddrPortFrom(ip.Unmap(), port).String()}
	if r.scheme != "tcp" {
		t.serverName = strings.TrimSuffix(name, ".")
	}
	return t
}

// resolveWait is how long to wait before resolving again: every, or the
// TTL of the answer if it is known and shorter, but no less than
// config.MinResolveWait unless every is.
func resolveWait(every, ttl time.Duration, hasTTL bool) time.Duration {
	if !hasTTL {
		return every
	}
	return min(every, max(ttl, config.MinResolveWait))
}

// dial dials a name server with the configured Dial, and watches the
// answers on the connection. The Go resolver frames messages by the type
// of the connection (a net.PacketConn carries one message per read and
// write, others a 2-byte length before each), which the watching keeps.
func (r *resolver) dial(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := r.base(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if pc, ok := c.(packetConn); ok {
		return &ttlPacketConn{packetConn: pc, r: r}, nil
	}
	return &ttlStreamConn{Conn: c, r: r}, nil
}

// answered notes the TTLs of the answer records of msg, a DNS message
// that came from a name server; a message that is no answer, or not a
// successful one, is ignored.
func (r *resolver) answered(msg []byte) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || !h.Response || h.RCode != dnsmessage.RCodeSuccess || p.SkipAllQuestions() != nil {
		return
	}
	for {
		rh, err := p.AnswerHeader()
		if err != nil {
			return // dnsmessage.ErrSectionDone, or a malformed record
		}
		r.mu.Lock()
		if !r.hasTTL || rh.TTL < r.ttl {
			r.ttl, r.hasTTL = rh.TTL, true
		}
		r.mu.Unlock()
		if p.SkipAnswer() != nil {
			return
		}
	}
}

type packetConn interface {
	net.Conn
	net.PacketConn
}

// A ttlPacketConn is a datagram connection to a name server: each read
// is one message.
type ttlPacketConn struct {
	packetConn
	r *resolver
}

func (c *ttlPacketConn) Read(b []byte) (int, error) {
	n, err := c.packetConn.Read(b)
	if n > 0 {
		c.r.answered(b[:n])
	}
	return n, err
}

// A ttlStreamConn is a stream connection to a name server: messages come
// with their length before them, and reads may split them anywhere.
// It is read by one goroutine at a time, as net.Conn allows.
type ttlStreamConn struct {
	net.Conn
	r   *resolver
	buf []byte // what was read of the message being read, its length first; at most 2+65535 bytes
}

func (c *ttlStreamConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	for rest := b[:n]; len(rest) > 0; {
		want := 2
		if len(c.buf) >= 2 {
			want = 2 + int(binary.BigEndian.Uint16(c.buf))
		}
		k := min(want-len(c.buf), len(rest))
		c.buf = append(c.buf, rest[:k]...)
		rest = rest[k:]
		if len(c.buf) >= 2 && len(c.buf) == 2+int(binary.BigEndian.Uint16(c.buf)) {
			c.r.answered(c.buf[2:])
			c.buf = c.buf[:0]
		}
	}
	return n, err
}
