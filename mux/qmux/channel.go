package qmux

import (
	"net"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// A channel is one qmux channel. It implements mux.Channel.
//
// It is made of two halves that share nothing but the lifecycle: the send
// half (send.go), guarded by Session.mu with the session's queues and the
// writer, and the receive half (recv.go), guarded by its own lock so that
// Reads and the reader goroutine do not contend with writers. A byte
// written goes from Write (send.go) through the session's writer
// (writer.go) to the connection; at the peer, the reader goroutine
// (reader.go) hands it to receiveData and its Read (recv.go).
type channel struct {
	s     *Session
	id    uint32 // this side's number
	early bool   // opened by OpenEarly; set before the application gets the channel, never changed
	probe bool   // a keepalive probe (liveness.go); set with Session.mu held before its OPEN is sent, never changed

	// Guarded by s.mu.
	state    lifecycle
	remoteID uint32 // the peer's number, once confirmed
	// The peer sent CLOSE while the channel waited for its confirmation
	// (opening or abandoned; receiver tolerance): handled as the peer's
	// CLOSE once the confirmation gives the number to answer it with.
	closedEarly bool

	send sendHalf
	recv recvHalf
}

var _ mux.Channel = (*channel)(nil)

// A lifecycle is where a channel stands in the open and close handshakes
// (spec/qmux.md sections 5 and 7), together with whether the application
// still holds it. Guarded by Session.mu. The states from closing on have
// sent CLOSE, or need not send it any more.
type lifecycle uint8

const (
	opening    lifecycle = iota // OPEN sent, no answer yet
	abandoned                   // OPEN sent, no answer yet, and the opener let go: CLOSE follows a confirmation
	open                        // confirmed: data flows both ways
	eofSent                     // confirmed, and this side sent EOF: it writes no more
	rejected                    // the peer refused the open; the early opener holds the channel until Close
	closing                     // the application let go and CLOSE was sent; the peer's CLOSE is awaited
	peerClosed                  // the peer's CLOSE came and was answered; the application holds the channel until Close
	done                        // over: the number is released (or the session ended)
)

// closeSent reports whether this side may send nothing more on the channel.
func (l lifecycle) closeSent() bool { return l >= closing }

// writable reports whether Write and CloseWrite may still send data or EOF.
func (l lifecycle) writable() bool { return l == opening || l == open }

func newChannel(s *Session, id uint32) *channel {
	c := &channel{s: s, id: id}
	c.send.cond.L = &s.mu
	c.recv.init(s.cfg.WindowSize, s.credit)
	return c
}

func (c *channel) ID() uint64           { return uint64(c.id) }
func (c *channel) LocalAddr() net.Addr  { return c.s.LocalAddr() }
func (c *channel) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

// Read reads data the peer sent (see recvHalf.read).
func (c *channel) Read(p []byte) (int, error) { return c.recv.read(c, p) }

// Write writes p, blocking while the peer's window is closed. It returns
// once all of p was handed to the session's writer (copied or written).
func (c *channel) Write(p []byte) (int, error) { return c.write(p, nil) }

// WriteBuffers writes the concatenation of bufs as Write would, in the
// same packets, without copying them together first (mux.BuffersWriter).
func (c *channel) WriteBuffers(bufs [][]byte) (int, error) { return c.write(nil, bufs) }

// CloseWrite sends EOF: the peer reads io.EOF after the data written so far.
func (c *channel) CloseWrite() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for c.state == opening && !s.closed {
		c.send.cond.Wait() // an early open: EOF needs the peer's channel number
	}
	if err := c.sendErrLocked(); err != nil {
		return err
	}
	c.state = eofSent
	c.retractLocked()
	s.queueControlLocked(frame{typ: msgChannelEOF, recipient: c.remoteID})
	return nil
}

// Close closes the channel: pending and later Reads and Writes fail with
// mux.ErrChannelClosed and CLOSE is sent to the peer.
func (c *channel) Close() error {
	s := c.s
	s.mu.Lock()
	if !c.recv.close(c.s.credit) {
		s.mu.Unlock()
		return mux.ErrChannelClosed
	}
	s.interruptHolder(&c.recv)
	c.stopWriteTimerLocked()
	c.letGoLocked()
	flush := s.unsignalled
	s.mu.Unlock()
	if flush {
		s.flushQueued() // what this call queued quietly: its reply, the CLOSE
	}
	return nil
}

// letGoLocked starts or completes the close handshake for a channel the
// application lets go of. Like a file descriptor, the channel number stays
// taken until the handshake is over, even when the peer closed first.
func (c *channel) letGoLocked() {
	s := c.s
	switch c.state {
	case opening: // an early open: CLOSE follows the confirmation
		c.state = abandoned
	case rejected, peerClosed:
		c.state = done
		s.releaseLocked(c)
	case open, eofSent:
		c.state = closing
		if !s.closed {
			s.queueQuietLocked(frame{typ: msgChannelClose, recipient: c.remoteID})
		}
	}
	c.retractLocked()
}

// SetDeadline sets the read and write deadlines.
func (c *channel) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline makes pending and later Reads fail with
// os.ErrDeadlineExceeded from t on; the zero time clears it.
func (c *channel) SetReadDeadline(t time.Time) error {
	c.recv.setDeadline(t, c.s)
	return nil
}

// SetWriteDeadline makes pending and later Writes fail with
// os.ErrDeadlineExceeded from t on; the zero time clears it.
func (c *channel) SetWriteDeadline(t time.Time) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c.send.deadline = t
	c.send.timer = resetTimer(c.send.timer, t, func() {
		s.mu.Lock()
		c.send.cond.Broadcast()
		s.mu.Unlock()
	})
	c.send.cond.Broadcast()
	return nil
}

func (c *channel) stopWriteTimerLocked() {
	if c.send.timer != nil {
		c.send.timer.Stop()
	}
}

// resetTimer arms timer (created with wake if nil) to fire at deadline t.
// The zero time or a time already past needs no timer: waiters check the
// deadline themselves when woken, so a timer firing late or spuriously is
// harmless too.
func resetTimer(timer *time.Timer, t time.Time, wake func()) *time.Timer {
	d := time.Until(t)
	if t.IsZero() || d <= 0 {
		if timer != nil {
			timer.Stop()
		}
		return timer
	}
	if timer == nil {
		return time.AfterFunc(d, wake)
	}
	timer.Reset(d)
	return timer
}

// expired reports whether deadline t is set and has passed.
func expired(t time.Time) bool {
	return !t.IsZero() && !time.Now().Before(t)
}
