package pipe

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// DefaultSize is the buffer size of each direction of a pipe made by New.
const DefaultSize = 64 << 10

// New returns the two ends of a buffered in-memory connection whose
// directions each buffer DefaultSize bytes.
func New() (a, b net.Conn) { return NewSize(DefaultSize) }

// NewSize is like New with a buffer of size bytes in each direction. A size
// below 1 selects DefaultSize.
func NewSize(size int) (a, b net.Conn) {
	if size < 1 {
		size = DefaultSize
	}
	ab, ba := newHalf(size), newHalf(size)
	return &conn{rd: ba, wr: ab}, &conn{rd: ab, wr: ba}
}

var addr net.Addr = mux.Addr{Net: "pipe"}

// conn is one end of a pipe.
type conn struct {
	rd     *half       // the direction this end reads
	wr     *half       // the direction this end writes
	closed atomic.Bool // Close was called
}

var _ net.Conn = (*conn)(nil)

func (c *conn) Read(p []byte) (int, error)  { return c.rd.read(p) }
func (c *conn) Write(p []byte) (int, error) { return c.wr.write(p) }

// Close closes this end. Pending calls on both ends return; see the package
// documentation for what they report.
func (c *conn) Close() error {
	if c.closed.Swap(true) {
		return net.ErrClosed
	}
	c.rd.closeReader()
	c.wr.closeWriter()
	return nil
}

// CloseWrite half-closes this end: the peer reads io.EOF after the data
// written so far; writes on this end fail with an error matching
// net.ErrClosed.
func (c *conn) CloseWrite() error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	c.wr.closeWriter()
	return nil
}

func (c *conn) LocalAddr() net.Addr  { return addr }
func (c *conn) RemoteAddr() net.Addr { return addr }

func (c *conn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	c.rd.setDeadline(&c.rd.rdl, t)
	c.wr.setDeadline(&c.wr.wdl, t)
	return nil
}

func (c *conn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	c.rd.setDeadline(&c.rd.rdl, t)
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	c.wr.setDeadline(&c.wr.wdl, t)
	return nil
}
