package relay

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// Dial connects to addr and returns a byte stream to it: the raw
// connection if addr has no subport, a call of the label if its subport
// is one ("module:name"), or the raw connection opened with a preamble
// naming its subport otherwise (see the package documentation). ctx
// bounds connecting and cfg.HandshakeTimeout the answer or the reply to
// the call; neither bounds the stream returned. A refused subport gives a
// *RefusedError.
func Dial(ctx context.Context, addr string, cfg *Config, opts ...transport.Option) (io.ReadWriteCloser, error) {
	a, err := transport.ParseAddress(addr)
	if err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	switch {
	case strings.Contains(a.Subport, ":"):
		return dialLabel(ctx, a, c, opts)
	case a.Subport != "":
		return dialSubport(ctx, a, c, opts)
	}
	return transport.DialConn(ctx, addr, opts...)
}

// dialSubport dials the raw connection, sends the preamble and waits for
// the answer.
func dialSubport(ctx context.Context, a transport.Address, c Config, opts []transport.Option) (io.ReadWriteCloser, error) {
	sub := a.Subport
	if len(sub) > maxSubportLen {
		return nil, fmt.Errorf("%w: subport of %d bytes, more than %d", ErrBadRoute, len(sub), maxSubportLen)
	}
	a.Subport = ""
	conn, err := transport.DialConn(ctx, a.String(), opts...)
	if err != nil {
		return nil, err
	}
	err = handshake(ctx, conn, c.HandshakeTimeout, func() error {
		if _, err := conn.Write(appendRequest(nil, sub)); err != nil {
			return fmt.Errorf("relay: sending the preamble: %w", err)
		}
		return readAnswer(conn, sub)
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("relay: dial %s!%s: %w", a, sub, err)
	}
	return conn, nil
}

// handshake runs f, which reads and writes conn, and closes conn if ctx
// ends or timeout passes first (not every connection has deadlines), so
// that f returns. It then reports why.
func handshake(ctx context.Context, conn io.Closer, timeout time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer within %s", timeout))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err := f()
	if !stop() {
		return context.Cause(ctx)
	}
	return err
}

// dialLabel opens a qtalk session to the address and calls the label of
// its subport; the continued reply's channel is the stream.
func dialLabel(ctx context.Context, a transport.Address, c Config, opts []transport.Option) (io.ReadWriteCloser, error) {
	label := a.Subport
	a.Subport = ""
	sess, err := transport.Dial(ctx, a.String(), opts...)
	if err != nil {
		return nil, err
	}
	// The call's context bounds the whole stream, so it is not ctx: it
	// ends with the stream's Close, and only the wait for the reply is
	// bounded.
	callCtx, cancel := context.WithCancel(context.Background())
	var resp *rpc.Response
	err = handshake(ctx, sess, c.HandshakeTimeout, func() error {
		var err error
		resp, err = rpc.NewClient(sess).Call(callCtx, label, nil, nil)
		return err
	})
	if err == nil && !resp.Continue {
		err = fmt.Errorf("%w: %s answered without a byte stream", ErrBadRoute, label)
	}
	if err != nil {
		cancel()
		sess.Close()
		return nil, fmt.Errorf("relay: dial %s!%s: %w", a, label, err)
	}
	return &callConn{Channel: resp.Conn(), sess: sess, cancel: cancel}, nil
}

// A callConn is the byte stream of a call; closing it ends the call and
// its session.
type callConn struct {
	mux.Channel
	sess   mux.Session
	cancel context.CancelFunc // of the call's context: closes the channel
}

// Close ends the call by its context rather than Response.Close, which
// would recycle the buffer a Read in progress may still be copying from.
func (c *callConn) Close() error {
	c.cancel()
	return c.sess.Close()
}

var _ closeWriter = (*callConn)(nil)
