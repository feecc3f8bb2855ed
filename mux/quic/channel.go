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
//
// A channel opened early (Config.EarlyOpen) gets no answer to its open:
// the peer's data comes first, or the peer's refusal, a reset that a Read
// reports, or a Write once the peer's STOP_SENDING has arrived.
type channel struct {
	s     *Session
	str   *quicgo.Stream
	early bool // opened early: a reset by the peer with codeRejected or codeCancelled is a refusal

	wmu sync.Mutex // held by Write, and by CloseWrite and Close around Stream.Close

	// mu guards the fields below and the stream's write deadline.
	mu      sync.Mutex
	wclosed bool  // CloseWrite or Close was called: Write fails, the write deadline is ours
	closed  bool  // Close was called
	openErr error // the early open was refused: Read and Write fail with it
}

var _ mux.WriteDoneChannel = (*channel)(nil)

// newChannel returns the channel over str, a stream whose open was
// confirmed (or accepted, on the acceptor's side).
func newChannel(s *Session, str *quicgo.Stream) *channel {
	s.channels.Add(1)
	return &channel{s: s, str: str}
}

// newEarlyChannel returns the channel over str, a stream opened early,
// whose open the peer may still refuse.
func newEarlyChannel(s *Session, str *quicgo.Stream) *channel {
	s.channels.Add(1)
	return &channel{s: s, str: str, early: true}
}

// ID returns the QUIC stream ID.
func (c *channel) ID() uint64           { return uint64(c.str.StreamID()) }
func (c *channel) LocalAddr() net.Addr  { return c.s.LocalAddr() }
func (c *channel) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

// Read reads what the peer sent. It returns io.EOF after the peer's
// CloseWrite or Close, once the data sent before is read. On a channel
// opened early, Read fails with mux.ErrOpenRejected if the peer refused
// the open.
func (c *channel) Read(p []byte) (int, error) {
	c.mu.Lock()
	closed, openErr := c.closed, c.openErr
	c.mu.Unlock()
	switch {
	case closed:
		return 0, mux.ErrChannelClosed
	case openErr != nil:
		return 0, openErr
	}
	n, err := c.str.Read(p)
	if n > 0 && c.s.cfg.IdleTimeout > 0 {
		c.s.dataReads.Add(1)
	}
	if err != nil && err != io.EOF {
		err = c.readErr(err)
	}
	return n, err
}

// refused reports whether err is the peer's refusal of an early open: a
// reset with codeRejected (the backlog is full) or codeCancelled (its
// session is closing). The acceptor resets a stream with these codes only
// instead of queueing it for Accept.
func (c *channel) refused(err error) bool {
	se, ok := remoteStreamErr(err)
	return ok && c.early && (se.ErrorCode == codeRejected || se.ErrorCode == codeCancelled)
}

// openFailed records that the early open failed with err, cancels the
// stream, and returns the error of the failed open: the first recorded.
func (c *channel) openFailed(err error) error {
	c.mu.Lock()
	if c.openErr == nil {
		c.openErr = err
	}
	err = c.openErr
	c.mu.Unlock()
	cancelStream(c.str, codeCancelled)
	return err
}

func (c *channel) readErr(err error) error {
	c.mu.Lock()
	closed, openErr := c.closed, c.openErr
	c.mu.Unlock()
	var se *quicgo.StreamError
	switch {
	case closed:
		return mux.ErrChannelClosed
	case openErr != nil:
		return openErr
	case isTimeout(err):
		return os.ErrDeadlineExceeded
	case isConnErr(err):
		return c.s.connEnded(err)
	case c.refused(err):
		return c.openFailed(mux.ErrOpenRejected)
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
// CloseWrite or Close, or once the peer closed the channel. On a channel
// opened early, it fails with mux.ErrOpenRejected once the peer's refusal
// of the open has arrived; the data written before was discarded.
func (c *channel) Write(p []byte) (int, error) {
	// No defer, and the checks in writable: a small frame here spares a
	// goroutine that does little but write (a call's response) a stack
	// growth on its first Write.
	c.wmu.Lock()
	if err := c.writable(); err != nil {
		c.wmu.Unlock()
		return 0, err
	}
	n, err := c.str.Write(p)
	if err != nil {
		err = c.writeErr(err)
	}
	c.wmu.Unlock()
	return n, err
}

// writable returns the error of a Write that must fail at once, or nil.
func (c *channel) writable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.wclosed:
		return mux.ErrChannelClosed
	case c.openErr != nil:
		return c.openErr
	}
	return nil
}

func (c *channel) writeErr(err error) error {
	c.mu.Lock()
	wclosed, openErr := c.wclosed, c.openErr
	c.mu.Unlock()
	var se *quicgo.StreamError
	switch {
	case wclosed: // interrupted by CloseWrite or Close
		return mux.ErrChannelClosed
	case openErr != nil: // a Read found that the open failed
		return openErr
	case isTimeout(err):
		return os.ErrDeadlineExceeded
	case isConnErr(err):
		return c.s.connEnded(err)
	case c.refused(err):
		return c.openFailed(mux.ErrOpenRejected)
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
	c.s.channels.Add(-1)
	c.str.CancelRead(codeClosed)
	c.closeSend()
	return nil
}

// WriteDone returns a channel that is closed once Writes fail for good
// (mux.WriteDoneChannel): the stream's send side ended with this side's
// FIN or reset, the peer's STOP_SENDING (its Close, or its refusal of an
// early open), or the end of the connection.
func (c *channel) WriteDone() <-chan struct{} {
	return c.str.Context().Done()
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
