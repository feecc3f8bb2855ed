package qmux

import (
	"os"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// A sendHalf is the sending side of a channel: the Write under way, the
// peer's window and the place of the channel in the writer's ready queue.
//
// Every field but wmu is guarded by Session.mu, which the writer holds
// while it takes packets (writer.go), so that a Write, the writer and the
// reader (which grows the window) see one state. wmu serialises Writes: a
// Write holds it until all its bytes are handed over, so a channel has at
// most one Write under way and its bytes leave in order.
//
// The path of a byte: Write either copies a short payload straight into the
// session's data queue (copyLocked) and returns, or makes it pending and
// puts the channel on the ready queue (queueReadyLocked); the writer takes
// one packet per turn (nextPacketLocked), copying it into the batch or
// pointing the batch at the caller's buffer (inflight counts those packets,
// which the Write must wait for before returning), until pending is empty.
// The writer role is the writer goroutine's, woken for the queued data, or,
// in a quiet session (quiet.go), that of the writing goroutine's own next
// Read about to wait, Close or Accept (flushQueued in writer.go).
//
// Invariants: pending is nil or not empty; rest holds no references once
// pending is nil; unsent is the length of pending plus rest; readyQueued is
// true exactly while the channel is in Session.ready; written+unsent is the
// length of the Write under way.
type sendHalf struct {
	wmu sync.Mutex

	window      uint32   // bytes the peer lets this side send
	maxPacket   uint32   // the peer's largest DATA payload; 0 until confirmed
	pending     []byte   // the part of the Write's current buffer not yet taken by the writer
	rest        [][]byte // the Write's buffers after pending
	unsent      int      // bytes of the Write not yet taken
	written     int      // bytes of the Write taken
	inflight    int      // packets of pending being written without a copy
	readyQueued bool     // in Session.ready
	deadline    time.Time
	timer       *time.Timer
	cond        sync.Cond     // L is &Session.mu; signalled when a Write, CloseWrite or Open may progress
	writeDone   chan struct{} // made by WriteDone, closed by writesEndedLocked
}

// write writes p followed by the buffers of more.
func (c *channel) write(p []byte, more [][]byte) (int, error) {
	h := &c.send
	h.wmu.Lock()
	defer h.wmu.Unlock()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := c.writeErrLocked(); err != nil {
		return 0, err
	}
	total := len(p)
	for _, b := range more {
		total += len(b)
	}
	if total == 0 {
		return 0, nil
	}
	if c.copyLocked(p, more, total) {
		return total, nil
	}
	h.pending, h.rest, h.unsent, h.written = p, more, total, 0
	if len(p) == 0 {
		h.nextBuffer()
	}
	c.queueReadyLocked()
	s.wakeReader() // window grants are to be read
	var err error
	for h.pending != nil || h.inflight > 0 {
		// Once the writer took every byte, the Write succeeds whatever
		// comes before its in-place packets are out (the peer may have
		// read them and closed): it only waits for its buffer to be free.
		if err == nil && h.pending != nil {
			if err = c.writeErrLocked(); err != nil {
				c.retractLocked()
				continue
			}
		}
		h.cond.Wait()
	}
	if h.written < total && err == nil {
		// Retracted by Close, CloseWrite or the peer's CLOSE.
		if err = c.writeErrLocked(); err == nil {
			err = mux.ErrChannelClosed
		}
	}
	return h.written, err
}

// copyLocked queues p and the buffers of more, n bytes in all, as one
// DATA message copied into the session's data queue, if n is short enough
// to be copied into a batch anyway (under inPlaceThreshold) and fits the
// peer's window, its max packet and the copy budget. The Write then returns
// at once, without waiting for the writer, so that messages written back to
// back (a reply, then the channel's CLOSE) leave in one write. Nothing of
// the channel's is pending: Writes are serialised and wait for their data
// to be taken, so the channel's messages keep their order.
func (c *channel) copyLocked(p []byte, more [][]byte, n int) bool {
	s, h := c.s, &c.send
	if !s.fast(copyShortWrites) || n >= inPlaceThreshold || uint32(n) > h.window || uint32(n) > h.maxPacket || len(s.copied)+n > copyBudget {
		return false
	}
	s.copied = appendFrame(s.copied, frame{typ: msgChannelData, recipient: c.remoteID, length: uint32(n)})
	s.copied = append(s.copied, p...)
	for _, b := range more {
		s.copied = append(s.copied, b...)
	}
	h.window -= uint32(n)
	s.signalOrHoldLocked()
	return true
}

// sendErrLocked reports why no data or EOF can be sent on c any more, if
// so.
func (c *channel) sendErrLocked() error {
	switch {
	case c.s.closed:
		return c.s.closeErr
	case c.state == rejected:
		return mux.ErrOpenRejected
	case !c.state.writable():
		return mux.ErrChannelClosed
	}
	return nil
}

// writeErrLocked reports why Write cannot go on, if it cannot.
func (c *channel) writeErrLocked() error {
	if err := c.sendErrLocked(); err != nil {
		return err
	}
	if expired(c.send.deadline) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// queueReadyLocked puts c on the writer's ready queue if it has data and
// window.
func (c *channel) queueReadyLocked() {
	h := &c.send
	if h.pending != nil && h.window > 0 && !h.readyQueued {
		h.readyQueued = true
		c.s.ready.push(c)
		c.s.work.Signal()
	}
}

// nextPacketLocked hands the writer w the channel's next DATA message, of
// at most budget payload bytes, and returns its payload length (0 if the
// channel has nothing to send or no window). The channel goes back to the
// end of the ready queue if it has more, so that busy channels share the
// connection fairly.
func (c *channel) nextPacketLocked(w *writer, budget int) int {
	h := &c.send
	h.readyQueued = false
	if h.pending == nil || h.window == 0 {
		return 0
	}
	k := min(h.unsent, int(h.window), int(h.maxPacket), budget)
	w.appendHeader(frame{typ: msgChannelData, recipient: c.remoteID, length: uint32(k)})
	for left := k; left > 0; {
		n := min(len(h.pending), left)
		if w.appendPayload(h.pending[:n]) {
			h.inflight++
			w.sent = append(w.sent, c)
		}
		left -= n
		if h.pending = h.pending[n:]; len(h.pending) == 0 {
			h.nextBuffer()
		}
	}
	h.unsent -= k
	h.written += k
	h.window -= uint32(k)
	if h.pending == nil {
		h.cond.Broadcast()
	} else {
		c.queueReadyLocked()
	}
	return k
}

// writtenLocked records that a packet the writer wrote from the caller's
// buffer is out: the Write may return once none is left.
func (h *sendHalf) writtenLocked() {
	if h.inflight--; h.inflight == 0 {
		h.cond.Broadcast()
	}
}

// nextBuffer makes the next non-empty buffer of the Write pending, or sets
// pending to nil when there is none.
func (h *sendHalf) nextBuffer() {
	h.pending = nil
	for len(h.rest) > 0 && h.pending == nil {
		if len(h.rest[0]) > 0 {
			h.pending = h.rest[0]
		}
		h.rest = h.rest[1:]
	}
	if len(h.rest) == 0 {
		h.rest = nil // drop the reference to the caller's buffers
	}
}

// retractLocked takes back the part of the Write not yet taken by the
// writer; the Write then fails.
func (c *channel) retractLocked() {
	h := &c.send
	h.pending, h.rest, h.unsent = nil, nil, 0
	h.cond.Broadcast()
	c.writesEndedLocked()
}
