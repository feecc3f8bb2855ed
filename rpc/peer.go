package rpc

import (
	"crypto/tls"
	"net"

	"github.com/qtalkkit/qtalk/mux"
)

// A PeerInfo tells who is on the other side of a call's session, as far
// as the session knows (see mux.TLSSession).
type PeerInfo struct {
	// Addr is the remote address of the session's connection.
	Addr net.Addr

	// TLS is the state of the connection's TLS handshake, or nil if the
	// connection does not use TLS (or its session does not tell).
	TLS *tls.ConnectionState
}

// Peer returns what the call's session knows of the client: its address
// and, over tls, wss and quic, its TLS handshake (see PeerInfo.Identity).
func (c *Call) Peer() PeerInfo { return peerOf(c.Session()) }

func peerOf(sess mux.Session) PeerInfo {
	p := PeerInfo{Addr: sess.RemoteAddr()}
	if ts, ok := sess.(mux.TLSSession); ok {
		if cs, ok := ts.TLSConnectionState(); ok {
			p.TLS = &cs
		}
	}
	return p
}

// Identity returns the peer's verified identity: the first URI SAN of the
// certificate it presented (a SPIFFE ID such as
// "spiffe://example.org/app") or, without one, the common name of the
// certificate's subject. It is "" unless the handshake verified the
// certificate's chain (a server that requires client certificates signed
// by its CAs does).
func (p PeerInfo) Identity() string {
	if p.TLS == nil || len(p.TLS.VerifiedChains) == 0 || len(p.TLS.VerifiedChains[0]) == 0 {
		return ""
	}
	leaf := p.TLS.VerifiedChains[0][0]
	if len(leaf.URIs) > 0 {
		return leaf.URIs[0].String()
	}
	return leaf.Subject.CommonName
}
