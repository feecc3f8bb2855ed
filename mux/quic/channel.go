package quic

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/mux"
)

// aLongTimeAgo is a deadline in the past, to interrupt a pending Write.
var aLongTimeAgo = time.Unix(1, 0)

// A channel is a mux.Channel over one bidirectional QUIC stream.
//
// quic-go's Stream.Close (the FIN) must not run concurrently with Write,
// yet Close and CloseWrite must end a Write blocked by flow control. So
// they mark the send side closed, interrupt a pending Write with a past
// write deadline, and call Stream.Close once Write has returned. The data
// Write accepted before that is delivered, followed by the FIN.
type channel struct {
	s   *Session
	str *quicgo.Stream

	wmu sync.Mutex // held by Write, and by CloseWrite and Close around Stream.Close

	// mu guards the fields below and the stream's write deadline.
	mu      sync.Mutex
	wclosed bool // CloseWrite or Close was called: Write fails, the write deadline is ours
	closed  bool // Close was called
}

var _ mux.Channel = (*channel)(nil)

func newChannel(s *Session, str *quicgo.Stream) *channel {
	return &channel{s: s, str: str}
}

// ID returns the QUIC stream ID.
func (c *channel) ID() uint64           { return uint64(c.str.StreamID()) }
func (c *channel) LocalAddr() net.Addr  { return c.s.LocalAddr() }
func (c *channel) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

// Read reads what the peer sent. It returns io.EOF after the peer's
// CloseWrite or Close, once the data sent before is read.
func (c *channel) Read(p []byte) (int, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, mux.ErrChannelClosed
	}
	n, err := c.str.Read(p)
	if err != nil && err != io.EOF {
		err = c.readErr(err)
	}
	return n, err
}

func (c *channel) readErr(err error) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	var se *quicgo.StreamError
	switch {
	case closed:
		return mux.ErrChannelClosed
	case isTimeout(err):
		return os.ErrDeadlineExceeded
	case isConnErr(err):
		return c.s.connEnded(err)
	case errors.As(err, &se) && se.Remote && (se.ErrorCode == codeClosed || se.ErrorCode == codeCancelled):
		// The peer abandoned its send side: it closed the channel, or
		// gave up on opening it. Either way no data was lost.
		return io.EOF
	case errors.As(err, &se) && !se.Remote:
		return mux.ErrChannelClosed
	}
	return fmt.Errorf("quic: read: %w", err)
}

// Write writes p to the peer. It fails with mux.ErrChannelClosed after
// CloseWrite or Close, or once the peer closed the channel.
func (c *channel) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	wclosed := c.wclosed
	c.mu.Unlock()
	if wclosed {
		return 0, mux.ErrChannelClosed
	}
	n, err := c.str.Write(p)
	if err != nil {
		err = c.writeErr(err)
	}
	return n, err
}

func (c *channel) writeErr(err error) error {
	c.mu.Lock()
	wclosed := c.wclosed
	c.mu.Unlock()
	var se *quicgo.StreamError
	switch {
	case wclosed: // interrupted by CloseWrite or Close
		return mux.ErrChannelClosed
	case isTimeout(err):
		return os.ErrDeadlineExceeded
	case isConnErr(err):
		return c.s.connEnded(err)
	case errors.As(err, &se), errors.Is(err, quicgo.ErrStreamClosed):
		// The peer stopped reading: it closed the channel.
		return mux.ErrChannelClosed
	}
	return fmt.Errorf("quic: write: %w", err)
}

// CloseWrite sends the FIN after the data written so far. A Write pending
// on the channel is interrupted and fails with mux.ErrChannelClosed.
func (c *channel) CloseWrite() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return mux.ErrChannelClosed
	}
	already := c.wclosed
	c.stopWritesLocked()
	c.mu.Unlock()
	if already {
		return nil
	}
	c.closeSend()
	return c.s.endedErr()
}

// Close ends both directions: the data written so far is delivered,
// followed by the FIN, and the peer is told to stop sending
// (STOP_SENDING with code 0). Pending Reads and Writes fail with
// mux.ErrChannelClosed.
func (c *channel) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.stopWritesLocked()
	c.mu.Unlock()
	c.str.CancelRead(codeClosed)
	c.closeSend()
	return nil
}

// stopWritesLocked marks the send side closed and interrupts a pending
// Write.
func (c *channel) stopWritesLocked() {
	c.wclosed = true
	c.str.SetWriteDeadline(aLongTimeAgo)
}

// closeSend sends the FIN once no Write is running. It fails only if the
// peer stopped reading or the connection ended, which makes the FIN moot.
func (c *channel) closeSend() {
	c.wmu.Lock()
	c.str.Close()
	c.wmu.Unlock()
}

func (c *channel) SetReadDeadline(t time.Time) error {
	return c.str.SetReadDeadline(t)
}

func (c *channel) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.wclosed {
		c.str.SetWriteDeadline(t)
	}
	return nil
}

func (c *channel) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}
