package quic

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
)

// ALPN is the application protocol qtalk negotiates on QUIC connections.
const ALPN = tlsconf.ALPN

// Dial connects to addr ("host:port") and returns a session over the
// connection. ctx bounds connecting and the handshake only. tlsConf may be
// nil: the server's certificate is then verified against the system roots.
// Dial uses a clone of tlsConf with ALPN added to NextProtos and, if it is
// empty, ServerName set to the host of addr. To pin a certificate or skip
// verification, dial through package transport with transport/quic
// imported ("quic://host:port?pin=...").
func Dial(ctx context.Context, addr string, tlsConf *tls.Config, cfg *Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("quic: dial: %w", err)
	}
	raddr, err := resolveUDP(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("quic: dial: %w", err)
	}
	network := "udp4"
	if raddr.AddrPort().Addr().Is6() {
		network = "udp6"
	}
	udp, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("quic: dial: %w", err)
	}
	var c *tls.Config
	if tlsConf != nil {
		c = tlsConf.Clone()
	} else {
		c = new(tls.Config)
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	tr := &quicgo.Transport{Conn: udp}
	release := func() {
		tr.Close()
		udp.Close()
	}
	conn, err := tr.Dial(ctx, raddr, tlsconf.AddALPN(c), cfg.quicConfig())
	if err != nil {
		release()
		return nil, fmt.Errorf("quic: dial: %w", err)
	}
	return newSession(conn, cfg, release), nil
}

// resolveUDP resolves "host:port" to one UDP address, preferring IPv4.
func resolveUDP(ctx context.Context, addr string) (*net.UDPAddr, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		p, lerr := net.DefaultResolver.LookupPort(ctx, "udp", portStr)
		if lerr != nil {
			return nil, lerr
		}
		port = uint64(p)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	ip := ips[0]
	if i := slices.IndexFunc(ips, func(a netip.Addr) bool { return a.Unmap().Is4() }); i >= 0 {
		ip = ips[i]
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip.Unmap(), uint16(port))), nil
}
