package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
	"github.com/qtalkkit/qtalk/mux"
)

// ALPN is the application protocol that qtalk's TLS-based schemes (tls and
// quic) negotiate.
const ALPN = tlsconf.ALPN

// tlsConnector dials and listens on tls://host:port: a qmux session over
// TLS over TCP. The query may hold the client's pin and insecure
// parameters (see ClientTLSConfig).
type tlsConnector struct{}

// tlsHostPort returns the host:port of a tls address and checks that it
// has nothing else.
func tlsHostPort(a Address) (string, error) {
	if a.Opaque != "" || (a.Path != "" && a.Path != "/") {
		return "", &AddressError{Addr: a.String(), Reason: "want " + a.Scheme + "://host:port"}
	}
	if _, port, err := net.SplitHostPort(a.Host); err != nil || port == "" {
		return "", &AddressError{Addr: a.String(), Reason: "missing port"}
	}
	return a.Host, nil
}

func (c tlsConnector) Dial(ctx context.Context, a Address, o *Options) (mux.Session, error) {
	conn, err := c.dialConn(ctx, a, o)
	if err != nil {
		return nil, err
	}
	return NewSession(conn, o)
}

func (tlsConnector) dialConn(ctx context.Context, a Address, o *Options) (io.ReadWriteCloser, error) {
	hostport, err := tlsHostPort(a)
	if err != nil {
		return nil, err
	}
	cfg, err := ClientTLSConfig(a, o)
	if err != nil {
		return nil, err
	}
	d := tls.Dialer{Config: tlsconf.AddALPN(cfg)}
	return d.DialContext(ctx, "tcp", hostport) // includes the handshake
}

// Listen listens on the address with the certificate of o.TLSConfig or, if
// it has none, a self-signed one (see ServerTLSConfig). Handshakes run
// before Accept sees a connection, so a client that fails one never
// becomes a session.
func (tlsConnector) Listen(ctx context.Context, a Address, o *Options) (Listener, error) {
	hostport, err := tlsHostPort(a)
	if err != nil {
		return nil, err
	}
	cfg, fp, err := ServerTLSConfig(a, o)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	l := &tlsListener{ln: newGuardedListener(ln, o), cfg: cfg, fp: fp, q: newConnQueue(o), handshakeTimeout: o.handshakeTimeout()}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Add(1)
	go l.loop()
	return l, nil
}

// tlsListener accepts TCP connections, runs the TLS handshake of each in
// a goroutine of its own and hands the connections that complete it to
// Accept.
type tlsListener struct {
	ln  net.Listener
	cfg *tls.Config
	fp  string
	// handshakeTimeout bounds each handshake, so that a client that
	// connects and sends nothing does not hold a goroutine.
	handshakeTimeout time.Duration
	q                *connQueue
	ctx              context.Context // cancelled by Close, ending handshakes and pushes
	cancel           context.CancelFunc
	wg               sync.WaitGroup // the accept loop and the handshakes
	closeOnce        sync.Once
	closeErr         error
}

var _ Fingerprinter = (*tlsListener)(nil)

func (l *tlsListener) loop() {
	defer l.wg.Done()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			l.q.fail(fmt.Errorf("transport: accept: %w", err)) // no effect after Close
			return
		}
		l.wg.Go(func() {
			tc := tls.Server(conn, l.cfg)
			ctx, cancel := context.WithTimeout(l.ctx, l.handshakeTimeout)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				tc.Close()
				return
			}
			l.q.push(l.ctx, tc)
		})
	}
}

func (l *tlsListener) Accept(ctx context.Context) (mux.Session, error) { return l.q.accept(ctx) }

func (l *tlsListener) AcceptConn(ctx context.Context) (io.ReadWriteCloser, error) {
	return l.q.acceptConn(ctx)
}

// Close stops the listener, abandons the handshakes in progress and waits
// for its goroutines to exit.
func (l *tlsListener) Close() error {
	l.closeOnce.Do(func() {
		l.q.close()
		l.cancel()
		l.closeErr = l.ln.Close()
		l.wg.Wait()
	})
	return l.closeErr
}

func (l *tlsListener) Addr() net.Addr { return l.ln.Addr() }

// Fingerprint returns the fingerprint of the listener's certificate.
func (l *tlsListener) Fingerprint() string { return l.fp }
