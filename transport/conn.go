package transport

import (
	"context"
	"fmt"
	"io"
	"net"
)

// A ConnListener accepts raw connections: the byte streams the listener's
// sessions would run over, without a session. The listeners of the
// built-in schemes but exec are ConnListeners (a listener's connections
// are taken by either Accept or AcceptConn, whichever asks first).
type ConnListener interface {
	// AcceptConn waits for the next connection, until ctx is done or the
	// listener is closed (then it fails with ErrListenerClosed). The
	// connection belongs to the caller.
	AcceptConn(ctx context.Context) (io.ReadWriteCloser, error)

	Close() error
	Addr() net.Addr
}

// A connDialer is a Connector that dials raw connections too.
type connDialer interface {
	dialConn(ctx context.Context, a Address, o *Options) (io.ReadWriteCloser, error)
}

// DialConn connects to addr as Dial does but returns the raw byte stream,
// without a qmux session over it: a TCP or Unix socket, a TLS
// connection, the binary messages of a WebSocket, stdin and stdout, or a
// child's stdin and stdout. Where the stream can be half-closed, the
// connection has a CloseWrite method (not over WebSockets). The subport
// of addr is ignored. Schemes registered by other packages fail with an
// error matching ErrUnsupported.
func DialConn(ctx context.Context, addr string, opts ...Option) (io.ReadWriteCloser, error) {
	a, e, err := parseAddress(addr)
	if err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	d, ok := e.c.(connDialer)
	if !ok {
		return nil, fmt.Errorf("transport: dial %s: %w: no raw connections over %s", a, ErrUnsupported, a.Scheme)
	}
	c, err := d.dialConn(ctx, a, o)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", a, err)
	}
	return c, nil
}

// ListenConns listens on addr as Listen does, for raw connections (see
// DialConn). A scheme whose listener is not a ConnListener fails with an
// error matching ErrUnsupported.
func ListenConns(ctx context.Context, addr string, opts ...Option) (ConnListener, error) {
	l, err := Listen(ctx, addr, opts...)
	if err != nil {
		return nil, err
	}
	cl, ok := l.(ConnListener)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("transport: listen %s: %w: no raw connections", addr, ErrUnsupported)
	}
	return cl, nil
}
