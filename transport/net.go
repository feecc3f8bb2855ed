package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
)

// netConnector dials and listens on tcp (Address.Host) or unix
// (Address.Path) sockets, with a qmux session over each connection.
type netConnector struct {
	network string // "tcp" or "unix"
}

func (c netConnector) addressSyntax() syntax {
	if c.network == "unix" {
		return syntaxPath
	}
	return syntaxHostPort
}

func (c netConnector) target(a Address) string {
	if c.network == "unix" {
		return a.Path
	}
	return a.Host
}

func (c netConnector) Dial(ctx context.Context, a Address, o *Options) (mux.Session, error) {
	conn, err := c.dialConn(ctx, a, o)
	if err != nil {
		return nil, err
	}
	return NewSession(conn, o)
}

func (c netConnector) dialConn(ctx context.Context, a Address, o *Options) (io.ReadWriteCloser, error) {
	var d net.Dialer
	return d.DialContext(ctx, c.network, c.target(a))
}

// Listen listens on the address. A unix listener removes its socket file
// when closed. The listener holds at most o's numbers of connections and
// rides out a lack of file descriptors (see guardedListener); any other
// accept error ends it: Accept returns it from then on.
func (c netConnector) Listen(ctx context.Context, a Address, o *Options) (Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, c.network, c.target(a))
	if err != nil {
		return nil, err
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	return newNetListener(newGuardedListener(ln, o), o), nil
}

// netListener is a Listener over a net.Listener, with a goroutine that
// accepts connections and waits for Accept to take each one.
type netListener struct {
	ln        net.Listener
	q         *connQueue
	wg        sync.WaitGroup // the accept loop
	closeOnce sync.Once
	closeErr  error
}

func newNetListener(ln net.Listener, o *Options) *netListener {
	l := &netListener{ln: ln, q: newConnQueue(o)}
	l.wg.Add(1)
	go l.loop()
	return l
}

func (l *netListener) loop() {
	defer l.wg.Done()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			l.q.fail(fmt.Errorf("transport: accept: %w", err)) // no effect after Close
			return
		}
		if !l.q.push(context.Background(), conn) {
			return
		}
	}
}

func (l *netListener) Accept(ctx context.Context) (mux.Session, error) { return l.q.accept(ctx) }

func (l *netListener) AcceptConn(ctx context.Context) (io.ReadWriteCloser, error) {
	return l.q.acceptConn(ctx)
}

// Close stops the listener and waits for its goroutine to exit.
func (l *netListener) Close() error {
	l.closeOnce.Do(func() {
		l.q.close()
		l.closeErr = l.ln.Close()
		l.wg.Wait()
	})
	return l.closeErr
}

func (l *netListener) Addr() net.Addr { return l.ln.Addr() }
