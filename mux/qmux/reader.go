package qmux

import (
	"errors"
	"fmt"
	"io"
	"math"
	"syscall"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// readLoop reads and dispatches messages until the connection fails or the
// peer breaks the protocol. It never waits for the application.
func (s *Session) readLoop() {
	defer s.wg.Done()
	for {
		if s.role.handed && s.in.r == s.in.w {
			// A Read took a short payload and is likely to wait
			// again soon: it may read the connection itself.
			s.lendRole()
			s.payAccept() // back with the role: nobody else will
		}
		if err := s.readMessage(); err != nil {
			s.fail(err)
			return
		}
		s.countMessage()
	}
}

// countMessage counts the message just read, for watchLiveness.
func (s *Session) countMessage() {
	s.received.Add(1)
	if s.hdr[0] == msgChannelData {
		s.dataReceived.Add(1)
	}
}

func (s *Session) readMessage() error {
	typ, err := s.in.readByte()
	if err != nil {
		return readError(err)
	}
	n := headerLen(typ)
	if n == 0 && s.received.Load() == 0 {
		// The first byte of the session: buf holds what the first read
		// brought, the start of whatever the peer speaks instead.
		return &ForeignError{Prefix: append([]byte(nil), s.in.buf[:min(s.in.w, maxForeignPrefix)]...)}
	}
	if n == 0 {
		return protocolError("unknown message type %d", typ)
	}
	s.hdr[0] = typ
	if err := s.in.readFull(s.hdr[1:n]); err != nil {
		return truncated(err)
	}
	f := parseFrame(s.hdr[:n])
	switch f.typ {
	case msgChannelOpen:
		return s.handleOpen(f)
	case msgChannelData:
		return s.handleData(f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookupLocked(f)
	if err != nil {
		return err
	}
	switch f.typ {
	case msgChannelOpenConfirm:
		return s.handleOpenConfirmLocked(c, f)
	case msgChannelOpenFailure:
		return s.handleOpenFailureLocked(c)
	case msgChannelWindowAdjust:
		return s.handleWindowAdjustLocked(c, f)
	case msgChannelEOF:
		return s.handleEOFLocked(c)
	default: // msgChannelClose
		return s.handleCloseLocked(c)
	}
}

// maxForeignPrefix bounds ForeignError.Prefix.
const maxForeignPrefix = 64

// A ForeignError ends a session whose peer's very first byte is not the
// type of a qmux message: the peer speaks another protocol (an HTTP, TLS
// or SSH server answers or greets in bytes no qmux message starts with).
// It matches mux.ErrProtocol.
type ForeignError struct {
	// Prefix is the start of what the peer sent: the bytes of the
	// session's first read from the connection, at most 64.
	Prefix []byte
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("qmux: the peer does not speak qmux: its first bytes are %q", e.Prefix)
}

// Is makes a ForeignError match mux.ErrProtocol.
func (e *ForeignError) Is(target error) bool { return target == mux.ErrProtocol }

// readError describes a failed read between messages. As for a write
// (writeError), a peer that went away, closing its end or resetting it,
// ended the session with an error matching io.EOF.
func readError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("qmux: connection closed by peer: %w", err)
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("qmux: connection closed by peer: %w", errors.Join(io.EOF, err))
	}
	return fmt.Errorf("qmux: read: %w", err)
}

// truncated wraps an error met in the middle of a message.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return protocolError("connection ended in the middle of a message: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("qmux: read: %w", err)
}

// lookupLocked finds the channel a message is addressed to. Every message
// but OPEN must name a channel number in use; OPEN_CONFIRM and
// OPEN_FAILURE are only for channels waiting for them, and nothing may
// follow the peer's CLOSE.
func (s *Session) lookupLocked(f frame) (*channel, error) {
	if int64(f.recipient) >= int64(len(s.chans)) || s.chans[f.recipient] == nil {
		return nil, protocolError("message type %d for unknown channel %d", f.typ, f.recipient)
	}
	c := s.chans[f.recipient]
	answer := f.typ == msgChannelOpenConfirm || f.typ == msgChannelOpenFailure
	waiting := c.state == opening || c.state == abandoned
	// Receiver tolerance (spec/qmux.md): older peers send DATA, EOF and
	// CLOSE on a channel this side opened before confirming it.
	early := f.typ == msgChannelData || f.typ == msgChannelEOF || f.typ == msgChannelClose
	switch {
	case answer != waiting && !(waiting && early):
		return nil, protocolError("message type %d for channel %d in the wrong state", f.typ, f.recipient)
	case waiting && c.closedEarly && !answer:
		return nil, protocolError("message type %d for channel %d after its CLOSE", f.typ, f.recipient)
	case c.state == rejected:
		// The peer refused it: the number is this side's until the
		// early opener closes the channel, but not the peer's.
		return nil, protocolError("message type %d for unknown channel %d", f.typ, f.recipient)
	case c.state == peerClosed:
		return nil, protocolError("message type %d for channel %d after its CLOSE", f.typ, f.recipient)
	}
	return c, nil
}

// handleOpen confirms an open right away while the accept backlog has
// room; otherwise it leaves the open unanswered, so the opener waits, until
// Accept makes room. Only when that queue is full too, or the channel limit
// is reached, is the open refused.
func (s *Session) handleOpen(f frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case f.maxPacket == 0 || s.numChans >= s.cfg.MaxChannels:
		return s.queueReplyLocked(frame{typ: msgChannelOpenFailure, recipient: f.sender})
	case s.waiting.len() == 0 && s.accepts.len() < s.cfg.AcceptBacklog:
		return s.confirmLocked(f, s.holderReads)
	case s.waiting.len() < s.cfg.AcceptBacklog:
		s.waiting.push(f)
		return nil
	}
	return s.queueReplyLocked(frame{typ: msgChannelOpenFailure, recipient: f.sender})
}

// confirmLocked accepts the peer's open f and queues the channel for Accept,
// which must have room. byHolder: f was read by a Read holding the read
// role.
func (s *Session) confirmLocked(f frame, byHolder bool) error {
	c, err := s.newChannelLocked()
	if err != nil {
		return s.queueReplyLocked(frame{typ: msgChannelOpenFailure, recipient: f.sender})
	}
	c.state = open
	c.remoteID, c.send.window, c.send.maxPacket = f.sender, f.window, f.maxPacket
	confirm := frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: c.id, window: c.recv.size, maxPacket: s.cfg.MaxPacketSize}
	if byHolder && s.ctlBytes < s.cfg.MaxControlBacklog {
		// Read with the data of a call, which the reply will follow.
		s.queueQuietLocked(confirm)
	} else if err := s.queueReplyLocked(confirm); err != nil {
		return err
	}
	s.queueAcceptedLocked(c, byHolder)
	return nil
}

// promoteWaitingLocked confirms the oldest unanswered open now that Accept
// has made room.
func (s *Session) promoteWaitingLocked() error {
	if s.closed || s.waiting.len() == 0 || s.accepts.len() >= s.cfg.AcceptBacklog {
		return nil
	}
	return s.confirmLocked(s.waiting.pop(), false)
}

// queueReplyLocked queues a control message the peer caused, bounding how
// many may pile up while the peer does not read.
func (s *Session) queueReplyLocked(f frame) error {
	if s.ctlBytes >= s.cfg.MaxControlBacklog {
		return ErrPeerNotReading
	}
	s.queueControlLocked(f)
	return nil
}

func (s *Session) handleOpenConfirmLocked(c *channel, f frame) error {
	if f.maxPacket == 0 {
		return protocolError("OPEN_CONFIRMATION for channel %d with max packet 0", c.id)
	}
	c.remoteID, c.send.window, c.send.maxPacket = f.sender, f.window, f.maxPacket
	if c.state == abandoned {
		// The opener gave up before the confirmation came.
		c.state = closing
		if err := s.queueReplyLocked(frame{typ: msgChannelClose, recipient: c.remoteID}); err != nil {
			return err
		}
		if c.closedEarly {
			return s.handleCloseLocked(c)
		}
		return nil
	}
	if c.closedEarly {
		c.state = open
		return s.handleCloseLocked(c)
	}
	c.state = open
	if c.recv.grant > 0 && !c.recv.grantQueued {
		// Window given back for data the peer sent before confirming:
		// it could not be addressed until now.
		c.recv.grantQueued = true
		s.grants.push(c)
	}
	c.queueReadyLocked() // the Write of an early open, waiting for this
	c.send.cond.Broadcast()
	return nil
}

func (s *Session) handleOpenFailureLocked(c *channel) error {
	if c.early && c.state == opening {
		// The application holds the channel: its Reads and Writes
		// fail, and Close releases the number.
		c.state = rejected
		c.recv.setEnd(recvRejected)
	} else {
		// No application holds it: Open fails, or the opener let go.
		c.state = done
		s.releaseLocked(c)
	}
	c.send.cond.Broadcast()
	c.writesEndedLocked()
	return nil
}

func (s *Session) handleWindowAdjustLocked(c *channel, f frame) error {
	if c.state.closeSent() {
		return nil // this side closed the channel: discarded (spec/qmux.md section 7)
	}
	if uint64(c.send.window)+uint64(f.window) > math.MaxUint32 {
		return protocolError("WINDOW_ADJUST overflows the window of channel %d", c.id)
	}
	c.send.window += f.window
	c.queueReadyLocked()
	return nil
}

func (s *Session) handleEOFLocked(c *channel) error {
	if c.state.closeSent() || c.state == abandoned {
		return nil
	}
	return c.receiveEOF()
}

func (s *Session) handleCloseLocked(c *channel) error {
	if c.state == opening || c.state == abandoned {
		// Before the confirmation: Reads end now, the rest waits for it.
		c.closedEarly = true
		c.recv.setEnd(recvEOF)
		return nil
	}
	c.send.cond.Broadcast() // writes fail from now on
	c.recv.setEnd(recvEOF)
	if c.state == closing {
		c.state = done
		s.releaseLocked(c)
		return nil
	}
	c.state = peerClosed
	c.retractLocked()
	return s.queueCloseReplyLocked(c)
}

const (
	// closeReplyDelay bounds how long the CLOSE answering the peer's waits
	// for a write to go with (lateCloseReply).
	closeReplyDelay = 2 * time.Millisecond

	// lateCloseBudget is the length of the queued control messages from
	// which a CLOSE reply wakes the writer at once, as other replies do
	// (half of Config.MaxControlBacklog if that is less): what waits for a
	// write must not take a reading peer for one that does not read.
	lateCloseBudget = 4 << 10
)

// queueCloseReplyLocked queues the CLOSE that answers the peer's. The
// peer needs it only to free its channel number, so with lateCloseReply
// it does not wake the writer: it leaves with the next write, made for
// anything else (a client's next call: the CLOSE ending a unary call then
// costs no write, nor a wake-up of the peer's reader, of its own), or when
// the deferred work's timer wakes the writer, closeReplyDelay later at the
// most.
func (s *Session) queueCloseReplyLocked(c *channel) error {
	f := frame{typ: msgChannelClose, recipient: c.remoteID}
	if !s.fast(lateCloseReply) || s.closed || s.ctlBytes >= min(lateCloseBudget, s.cfg.MaxControlBacklog/2) {
		return s.queueReplyLocked(f)
	}
	s.ctl.push(ctlMsg{f: f, after: len(s.copied)})
	s.ctlBytes += headerLen(f.typ)
	if s.lateSince.IsZero() {
		now := time.Now()
		s.lateSince = now
		s.role.mu.Lock()
		s.armDeferredLocked(now, closeReplyDelay)
		s.role.mu.Unlock()
	}
	return nil
}

// handleData reads a DATA payload into its channel's buffer. The payload
// length is checked against the limits before anything is read or
// allocated.
func (s *Session) handleData(f frame) error {
	if f.length > s.cfg.MaxPacketSize {
		return protocolError("DATA of %d bytes for channel %d exceeds the max packet size %d", f.length, f.recipient, s.cfg.MaxPacketSize)
	}
	s.mu.Lock()
	c, err := s.lookupLocked(f)
	discard := err == nil && (c.state.closeSent() || c.state == abandoned)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if discard {
		// This side closed the channel; the peer had not seen it yet.
		if err := s.in.discard(int(f.length)); err != nil {
			return truncated(err)
		}
		return nil
	}
	return c.receiveData(s.in, f.length)
}
