package quic

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
	"github.com/qtalkkit/qtalk/mux"
)

// A Listener accepts QUIC connections on a UDP socket and returns a
// session over each. Package transport/quic serves it as a
// transport.Listener and transport.Fingerprinter.
type Listener struct {
	cfg *Config
	fp  string
	udp *net.UDPConn
	tr  *quicgo.Transport
	ln  *quicgo.Listener

	// mu guards the fields below. The socket serves the listener and the
	// sessions it accepted: it is released when the listener is closed
	// and the last of them has ended.
	mu     sync.Mutex
	closed bool
	refs   int // 1 while the listener is open, plus the sessions not yet ended
}

// Listen listens on the UDP address addr ("host:port"; port 0 picks one).
// ctx bounds binding the socket only. If tlsConf is nil or has no
// certificate, the listener uses an ephemeral self-signed certificate,
// which clients pin by its fingerprint (see Listener.Fingerprint). Listen
// uses a clone of tlsConf with ALPN added to NextProtos (and to those of
// the configs its GetConfigForClient returns).
func Listen(ctx context.Context, addr string, tlsConf *tls.Config, cfg *Config) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("quic: listen: %w", err)
	}
	c, fp, err := tlsconf.Server(tlsConf, host)
	if err != nil {
		return nil, fmt.Errorf("quic: listen: %w", err)
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("quic: listen: %w", err)
	}
	udp := pc.(*net.UDPConn)
	tr := &quicgo.Transport{Conn: udp}
	ln, err := tr.Listen(tlsconf.AddALPN(c), cfg.quicConfig())
	if err != nil {
		tr.Close()
		udp.Close()
		return nil, fmt.Errorf("quic: listen: %w", err)
	}
	return &Listener{cfg: cfg, fp: fp, udp: udp, tr: tr, ln: ln, refs: 1}, nil
}

// Accept waits for the next connection whose handshake has completed and
// returns a session over it. After Close it fails with ErrListenerClosed.
func (l *Listener) Accept(ctx context.Context) (mux.Session, error) {
	conn, err := l.ln.Accept(ctx)
	if err != nil {
		switch {
		case errors.Is(err, quicgo.ErrServerClosed):
			return nil, ErrListenerClosed
		case ctx.Err() != nil:
			return nil, fmt.Errorf("quic: accept: %w", ctx.Err())
		}
		return nil, fmt.Errorf("quic: accept: %w", err)
	}
	l.mu.Lock()
	if l.closed { // a connection queued before Close
		l.mu.Unlock()
		conn.CloseWithError(codeSessionClosed, "")
		return nil, ErrListenerClosed
	}
	l.refs++
	l.mu.Unlock()
	return newSession(conn, l.cfg, l.unref), nil
}

// Close stops accepting connections. Sessions already accepted go on; the
// socket is closed when the last of them ends.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.ln.Close()
	l.unref()
	return err
}

// unref drops a reference to the socket and releases it with the last.
func (l *Listener) unref() {
	l.mu.Lock()
	l.refs--
	last := l.refs == 0
	l.mu.Unlock()
	if last {
		l.tr.Close()
		l.udp.Close()
	}
}

// Addr returns the UDP address listened on.
func (l *Listener) Addr() net.Addr { return l.udp.LocalAddr() }

// Fingerprint returns the fingerprint of the listener's certificate
// ("sha256:" and 64 hexadecimal digits), which clients pin with
// "?pin=<fingerprint>" (see package transport/quic); "" if the TLS config picks
// the certificate per connection. The package prints nothing: a program
// shows it to its users, for example with
//
//	fmt.Fprintf(os.Stderr, "listening on quic://%s?pin=%s\n", ln.Addr(), ln.Fingerprint())
func (l *Listener) Fingerprint() string { return l.fp }
