package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
)

// stdioStreams returns the streams of stdio addresses; tests replace it.
var stdioStreams = func() (io.Reader, io.Writer) { return os.Stdin, os.Stdout }

// stdioConnector serves one session over the process's stdin and stdout,
// typically in a child started by a parent that dials exec:.
type stdioConnector struct{}

func (stdioConnector) addressSyntax() syntax { return syntaxNone }

// Dial returns a session reading os.Stdin and writing os.Stdout.
func (c stdioConnector) Dial(ctx context.Context, a Address, o *Options) (mux.Session, error) {
	conn, err := c.dialConn(ctx, a, o)
	if err != nil {
		return nil, err
	}
	return NewSession(conn, o)
}

func (stdioConnector) dialConn(ctx context.Context, a Address, o *Options) (io.ReadWriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return newStdioConn(stdioStreams()), nil
}

// Listen returns a listener whose first Accept returns the session over
// stdin and stdout; later Accepts wait until ctx is done or Close.
func (stdioConnector) Listen(ctx context.Context, a Address, o *Options) (Listener, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &stdioListener{opts: o, done: make(chan struct{})}, nil
}

var stdioAddr net.Addr = mux.Addr{Net: "stdio"}

// stdioConn is a connection over a reader and a writer, such as stdin and
// stdout. Close closes both if they are io.Closers.
type stdioConn struct {
	r         io.Reader
	w         io.Writer
	closeOnce sync.Once
	closeErr  error
}

func newStdioConn(r io.Reader, w io.Writer) *stdioConn { return &stdioConn{r: r, w: w} }

func (c *stdioConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *stdioConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// CloseWrite closes the writer (stdout) if it is an io.Closer, so that
// the reader at its other end sees its end while stdin goes on.
func (c *stdioConn) CloseWrite() error {
	if wc, ok := c.w.(io.Closer); ok && any(wc) != any(c.r) {
		return wc.Close()
	}
	return nil
}

// Close closes the reader and the writer. A Read blocked on a stdin that
// is not pollable (a terminal, a file) may go on until stdin has data or
// ends.
func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		if rc, ok := c.r.(io.Closer); ok {
			errs = append(errs, rc.Close())
		}
		if wc, ok := c.w.(io.Closer); ok && any(wc) != any(c.r) {
			errs = append(errs, wc.Close())
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

func (c *stdioConn) LocalAddr() net.Addr  { return stdioAddr }
func (c *stdioConn) RemoteAddr() net.Addr { return stdioAddr }

// stdioListener yields the stdio session once.
type stdioListener struct {
	opts      *Options
	mu        sync.Mutex // guards taken
	taken     bool       // the session was returned by Accept
	done      chan struct{}
	closeOnce sync.Once
}

func (l *stdioListener) Accept(ctx context.Context) (mux.Session, error) {
	c, err := l.AcceptConn(ctx)
	if err != nil {
		return nil, err
	}
	return NewSession(c, l.opts)
}

// AcceptConn returns the connection over stdin and stdout the first time,
// as Accept does the session.
func (l *stdioListener) AcceptConn(ctx context.Context) (io.ReadWriteCloser, error) {
	select {
	case <-l.done:
		return nil, ErrListenerClosed
	default:
	}
	l.mu.Lock()
	first := !l.taken
	l.taken = true
	l.mu.Unlock()
	if first {
		return newStdioConn(stdioStreams()), nil
	}
	select {
	case <-l.done:
		return nil, ErrListenerClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close makes Accept fail. It does not close the session already accepted.
func (l *stdioListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *stdioListener) Addr() net.Addr { return stdioAddr }
