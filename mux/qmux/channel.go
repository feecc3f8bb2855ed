package qmux

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// Channel states, guarded by Session.mu.
const (
	stateOpening  = iota // OPEN sent, no answer yet
	stateOpen            // confirmed
	stateRejected        // the peer answered OPEN_FAILURE
)

// minBufferSize is the first size of a channel's receive buffer, which
// grows up to the window as data arrives. Buffers of this size are
// recycled when their channel closes, so short-lived channels (one per
// rpc call) do not allocate one each.
const minBufferSize = 4 << 10

var smallBuffers = sync.Pool{New: func() any { return new([minBufferSize]byte) }}

// yieldAfter is the size from which a payload handed straight to a Read
// is worth yielding the reader goroutine's time for. Small payloads, as of
// many concurrent calls, are not: the reader would queue behind their
// goroutines.
const yieldAfter = 16 << 10

// recycleLocked returns a minimum-size buffer to the pool once the channel
// is closed and the reader is not writing into it.
func (c *channel) recycleLocked() {
	if c.closed && !c.filling && len(c.buf) == minBufferSize {
		smallBuffers.Put((*[minBufferSize]byte)(c.buf))
		c.buf, c.head, c.n = nil, 0, 0
	}
}

// A channel is one qmux channel. It implements mux.Channel.
type channel struct {
	s  *Session
	id uint32 // this side's number

	// Guarded by s.mu: the state, the send side and the close handshake.
	state           int
	early           bool // opened by OpenEarly: the application may hold it before the answer
	abandoned       bool // the opener gave up before the answer
	remoteID        uint32
	remoteMaxPacket uint32
	sendWindow      uint32
	pending         []byte   // the part of a Write's current segment not yet handed to the writer
	rest            [][]byte // the Write's segments after pending
	unsent          int      // bytes of the Write not yet handed to the writer
	inflight        int      // packets of pending being written without a copy
	written         int      // bytes of the current Write handed to the writer
	readyQueued     bool     // in s.ready
	grant           uint32   // window to give back to the peer
	adjustQueued    bool     // in s.adjusts
	sentEOF         bool
	sentClose       bool
	gotClose        bool
	released        bool // no application holds the channel: Close was called, or no one ever got it
	writeDeadline   time.Time
	writeTimer      *time.Timer
	sendCond        sync.Cond     // L is &s.mu; signalled when a Write may progress
	writeDone       chan struct{} // made by WriteDone, closed by writesEndedLocked

	wmu sync.Mutex // serialises Writes

	// rmu guards the receive side. Lock order: s.mu before rmu.
	rmu          sync.Mutex
	readCond     sync.Cond // L is &rmu
	buf          []byte    // ring of received bytes; grows up to the window
	filling      bool      // the reader is writing into buf without holding rmu
	head, n      int       // the unread bytes are buf[head:head+n] modulo len(buf)
	window       uint32    // bytes the peer may still send
	consumed     uint32    // bytes read but not yet granted back
	gotEOF       bool      // the peer sent EOF or CLOSE
	rejected     bool      // the peer refused the early open
	closed       bool      // Close was called
	sessionDone  bool      // the session ended
	readDeadline time.Time
	readTimer    *time.Timer
	offer        []byte // the buffer of a Read waiting for data, for the reader to fill
	taken        bool   // the reader took the offer; its Read has not yet seen the outcome
	handing      bool   // the reader is filling the offer without holding rmu
	handed       int    // bytes the reader put into the offer
}

var _ mux.Channel = (*channel)(nil)

func newChannel(s *Session, id uint32) *channel {
	c := &channel{s: s, id: id, window: s.cfg.WindowSize}
	c.sendCond.L = &s.mu
	c.readCond.L = &c.rmu
	return c
}

func (c *channel) ID() uint64           { return uint64(c.id) }
func (c *channel) LocalAddr() net.Addr  { return c.s.LocalAddr() }
func (c *channel) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

// Read reads data the peer sent, returning io.EOF after the peer's EOF or
// CLOSE once the buffered data is read. A Read waiting for data offers p to
// the reader goroutine, which may fill it straight from the connection
// (see receiveData).
func (c *channel) Read(p []byte) (int, error) {
	c.rmu.Lock()
	offered := false // p is or was c.offer
	flushed := c.s.tw == nil
	for {
		if offered && c.offer == nil {
			// The reader took p: it must be done with it before Read
			// returns, which takes no longer than a copy.
			for c.handing {
				c.readCond.Wait()
			}
			n := c.handed
			offered, c.taken, c.handed = false, false, 0
			if n > 0 && !c.closed {
				return c.consumedLocked(n)
			}
		}
		switch {
		case c.closed:
			c.withdrawLocked(offered)
			c.rmu.Unlock()
			return 0, mux.ErrChannelClosed
		case expired(c.readDeadline):
			c.withdrawLocked(offered)
			c.rmu.Unlock()
			return 0, os.ErrDeadlineExceeded
		case c.rejected:
			c.withdrawLocked(offered)
			c.rmu.Unlock()
			return 0, mux.ErrOpenRejected
		case c.n > 0:
			c.withdrawLocked(offered)
			return c.consumedLocked(c.readLocked(p))
		case len(p) == 0:
			c.rmu.Unlock()
			return 0, nil
		case c.gotEOF:
			c.withdrawLocked(offered)
			c.rmu.Unlock()
			return 0, io.EOF
		case c.sessionDone:
			c.withdrawLocked(offered)
			c.rmu.Unlock()
			return 0, c.s.closeErr
		}
		if !offered && c.offer == nil && !c.taken {
			c.offer, offered = p, true
		}
		if !flushed {
			// Before waiting, write what waits to be written (see
			// flushBeforeWait); then look again.
			flushed = true
			c.rmu.Unlock()
			c.s.flushBeforeWait()
			c.rmu.Lock()
			continue
		}
		c.readCond.Wait()
	}
}

// withdrawLocked takes back the buffer a Read offered, which the reader
// has not taken.
func (c *channel) withdrawLocked(offered bool) {
	if offered {
		c.offer = nil
	}
}

// consumedLocked ends a Read that got n bytes: it unlocks rmu and grants
// the window back if it is time to.
func (c *channel) consumedLocked(n int) (int, error) {
	grant := c.grantLocked(n)
	c.rmu.Unlock()
	if grant > 0 {
		c.s.queueGrant(c, grant)
	}
	return n, nil
}

// readLocked copies buffered bytes into p.
func (c *channel) readLocked(p []byte) int {
	n := 0
	for n < len(p) && c.n > 0 {
		end := min(c.head+c.n, len(c.buf))
		k := copy(p[n:], c.buf[c.head:end])
		n += k
		c.n -= k
		c.head = (c.head + k) % len(c.buf)
	}
	return n
}

// grantLocked counts n consumed bytes and returns the window to give back
// to the peer: nothing until half the window was consumed, so that one
// WINDOW_ADJUST covers many reads.
func (c *channel) grantLocked(n int) uint32 {
	c.consumed += uint32(n)
	if c.gotEOF || c.consumed < c.s.cfg.WindowSize/2 {
		return 0
	}
	grant := c.consumed
	c.consumed = 0
	c.window += grant
	return grant
}

// queueGrant queues a WINDOW_ADJUST, merging it with one not yet sent.
func (s *Session) queueGrant(c *channel, grant uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || c.sentClose {
		return
	}
	c.grant += grant
	if !c.adjustQueued {
		c.adjustQueued = true
		s.adjusts.push(c)
		s.work.Signal()
	}
}

// receiveData reads a DATA payload of length bytes from in into the
// buffer of a waiting Read, as much as has arrived, and the rest into the
// ring. The reader goroutine fills the offered buffer, and the free part of
// the ring, without holding rmu: the Read waits until it is done, Read only
// touches the unread part of the ring, and only the reader grows the ring.
func (c *channel) receiveData(in *input, length uint32) error {
	c.rmu.Lock()
	if c.gotEOF {
		c.rmu.Unlock()
		return protocolError("DATA for channel %d after its EOF", c.id)
	}
	if length > c.window {
		c.rmu.Unlock()
		return protocolError("DATA of %d bytes for channel %d exceeds its window of %d", length, c.id, c.window)
	}
	c.window -= length
	if length == 0 {
		c.rmu.Unlock()
		return nil
	}
	if c.offer != nil && c.n == 0 {
		// A Read is waiting: what the connection has of the payload
		// goes straight into its buffer, skipping the ring. Only what
		// is there already: the Read must not wait for the peer.
		dst := c.offer[:min(len(c.offer), int(length))]
		c.offer, c.taken, c.handing = nil, true, true
		c.rmu.Unlock()
		k := in.readAvailable(dst)
		c.rmu.Lock()
		c.handing, c.handed = false, k
		c.readCond.Broadcast()
		length -= uint32(k)
		if length == 0 {
			c.rmu.Unlock()
			if k >= yieldAfter {
				// Let the Read run now, as a mutex yields to the
				// waiter it hands over to: it is then likely back
				// and waiting, buffer offered, when the next payload
				// comes, which spares the copy through the ring.
				runtime.Gosched()
			}
			return nil
		}
	}
	need := c.n + int(length)
	if need > len(c.buf) {
		c.growLocked(need)
	}
	tail := (c.head + c.n) % len(c.buf)
	first := c.buf[tail:min(tail+int(length), len(c.buf))]
	second := c.buf[:int(length)-len(first)]
	c.filling = true
	c.rmu.Unlock()

	if err := in.readPayload(first, second); err != nil {
		return truncated(err)
	}

	c.rmu.Lock()
	c.filling = false
	c.n += int(length)
	c.readCond.Signal()
	c.recycleLocked()
	c.rmu.Unlock()
	return nil
}

// growLocked grows the ring to hold at least need bytes, within the window.
func (c *channel) growLocked(need int) {
	size := max(minBufferSize, 2*len(c.buf), need)
	size = min(size, int(c.s.cfg.WindowSize))
	var buf []byte
	if size == minBufferSize {
		buf = smallBuffers.Get().(*[minBufferSize]byte)[:]
	} else {
		buf = make([]byte, size)
	}
	n := 0
	if c.n > 0 {
		n = copy(buf, c.buf[c.head:min(c.head+c.n, len(c.buf))])
		copy(buf[n:], c.buf[:c.n-n])
	}
	if len(c.buf) == minBufferSize {
		smallBuffers.Put((*[minBufferSize]byte)(c.buf))
	}
	c.buf, c.head = buf, 0
}

// receiveEOF records the peer's EOF. Called with s.mu held.
func (c *channel) receiveEOF() error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.gotEOF {
		return protocolError("second EOF for channel %d", c.id)
	}
	c.gotEOF = true
	c.readCond.Broadcast()
	return nil
}

// receiveClose records the peer's CLOSE. Called with s.mu held.
func (c *channel) receiveClose() {
	c.rmu.Lock()
	c.gotEOF = true
	c.readCond.Broadcast()
	c.rmu.Unlock()
}

// sessionEnded fails pending and future operations. Called with s.mu held.
func (c *channel) sessionEnded() {
	c.sendCond.Broadcast()
	c.writesEndedLocked()
	c.rmu.Lock()
	c.sessionDone = true
	c.readCond.Broadcast()
	c.rmu.Unlock()
}

// Write writes p, blocking while the peer's window is closed. It returns
// once all of p was handed to the session's writer (copied or written).
func (c *channel) Write(p []byte) (int, error) {
	return c.write(p, nil)
}

// WriteBuffers writes the concatenation of bufs as Write would, in the
// same packets, without copying them together first (mux.BuffersWriter).
func (c *channel) WriteBuffers(bufs [][]byte) (int, error) {
	return c.write(nil, bufs)
}

// write writes p followed by the buffers of more.
func (c *channel) write(p []byte, more [][]byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
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
	c.pending, c.rest, c.unsent, c.written = p, more, total, 0
	if len(p) == 0 {
		c.nextSegmentLocked()
	}
	c.queueReadyLocked()
	var err error
	for c.pending != nil || c.inflight > 0 {
		if err == nil {
			if err = c.writeErrLocked(); err != nil {
				c.retractLocked()
				continue
			}
		}
		c.sendCond.Wait()
	}
	if c.written < total && err == nil {
		// Retracted by Close, CloseWrite or the peer's CLOSE.
		if err = c.writeErrLocked(); err == nil {
			err = mux.ErrChannelClosed
		}
	}
	return c.written, err
}

// nextSegmentLocked makes the next non-empty buffer of a Write pending,
// or sets pending to nil when there is none.
func (c *channel) nextSegmentLocked() {
	c.pending = nil
	for len(c.rest) > 0 && c.pending == nil {
		if len(c.rest[0]) > 0 {
			c.pending = c.rest[0]
		}
		c.rest = c.rest[1:]
	}
	if len(c.rest) == 0 {
		c.rest = nil // drop the reference to the caller's buffers
	}
}

// copyLocked queues p and the buffers of more, n bytes in all, as one
// DATA message, copied, if n is short enough to be copied into a batch
// anyway (under inPlaceThreshold) and fits the peer's window and the copy
// budget. The Write then returns at once, without waiting for the writer
// goroutine, so that messages written back to back (a reply, then the
// channel's CLOSE) leave in one write. Nothing of the channel's is queued
// before them: Writes are serialised and wait for their data to be handed
// over, so the channel's messages keep their order.
func (c *channel) copyLocked(p []byte, more [][]byte, n int) bool {
	s := c.s
	if n >= inPlaceThreshold || uint32(n) > c.sendWindow || uint32(n) > c.remoteMaxPacket || s.ctlData+n > copyBudget {
		return false
	}
	mark := len(s.ctl)
	s.ctl = appendFrame(s.ctl, frame{typ: msgChannelData, recipient: c.remoteID, length: uint32(n)})
	s.ctl = append(s.ctl, p...)
	for _, b := range more {
		s.ctl = append(s.ctl, b...)
	}
	s.ctlData += len(s.ctl) - mark
	c.sendWindow -= uint32(n)
	s.work.Signal()
	return true
}

// writeErrLocked reports why Write cannot go on, if it cannot.
func (c *channel) writeErrLocked() error {
	switch {
	case c.s.closed:
		return c.s.closeErr
	case c.released || c.sentEOF || c.sentClose:
		// (released: Close was called, on an early open before its
		// answer too, when no CLOSE can be sent yet)
		return mux.ErrChannelClosed
	case c.state == stateRejected:
		return mux.ErrOpenRejected
	case expired(c.writeDeadline):
		return os.ErrDeadlineExceeded
	}
	return nil
}

// queueReadyLocked puts c on the writer's ready queue if it has data and
// window.
func (c *channel) queueReadyLocked() {
	if c.pending != nil && c.sendWindow > 0 && !c.readyQueued {
		c.readyQueued = true
		c.s.ready.push(c)
		c.s.work.Signal()
	}
}

// retractLocked takes back the part of a Write not yet handed over.
func (c *channel) retractLocked() {
	c.pending, c.rest, c.unsent = nil, nil, 0
	c.sendCond.Broadcast()
	c.writesEndedLocked()
}

// CloseWrite sends EOF: the peer reads io.EOF after the data written so far.
func (c *channel) CloseWrite() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for c.state == stateOpening && !s.closed && !c.released {
		c.sendCond.Wait() // an early open: EOF needs the peer's channel number
	}
	switch {
	case s.closed:
		return s.closeErr
	case c.released || c.sentEOF || c.sentClose:
		return mux.ErrChannelClosed
	case c.state == stateRejected:
		return mux.ErrOpenRejected
	}
	c.sentEOF = true
	c.retractLocked()
	s.queueControlLocked(frame{typ: msgChannelEOF, recipient: c.remoteID})
	return nil
}

// Close closes the channel: pending and later Reads and Writes fail with
// mux.ErrChannelClosed and CLOSE is sent to the peer.
func (c *channel) Close() error {
	s := c.s
	s.mu.Lock()
	c.rmu.Lock()
	already := c.closed
	c.closed = true
	c.readCond.Broadcast()
	c.stopTimersLocked()
	c.recycleLocked()
	c.rmu.Unlock()
	if !already {
		c.closeLocked()
	}
	s.mu.Unlock()
	if already {
		return mux.ErrChannelClosed
	}
	return nil
}

// closeLocked starts or completes the close handshake for a channel the
// application lets go of. Like a file descriptor, the channel number stays
// taken until then, even when the peer closed first.
func (c *channel) closeLocked() {
	s := c.s
	c.released = true
	c.retractLocked()
	switch c.state {
	case stateOpening: // an early open: CLOSE follows the confirmation
		c.abandoned = true
		return
	case stateRejected:
		s.releaseLocked(c)
		return
	}
	if !s.closed && !c.sentClose {
		c.sentClose = true
		s.queueControlLocked(frame{typ: msgChannelClose, recipient: c.remoteID})
	}
	if c.gotClose {
		s.releaseLocked(c)
	}
}

func (c *channel) stopTimersLocked() {
	if c.readTimer != nil {
		c.readTimer.Stop()
	}
	if c.writeTimer != nil {
		c.writeTimer.Stop()
	}
}

// SetDeadline sets the read and write deadlines.
func (c *channel) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline makes pending and later Reads fail with
// os.ErrDeadlineExceeded from t on; the zero time clears it.
func (c *channel) SetReadDeadline(t time.Time) error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.readDeadline = t
	c.readTimer = resetTimer(c.readTimer, t, func() {
		c.rmu.Lock()
		c.readCond.Broadcast()
		c.rmu.Unlock()
	})
	c.readCond.Broadcast()
	return nil
}

// SetWriteDeadline makes pending and later Writes fail with
// os.ErrDeadlineExceeded from t on; the zero time clears it.
func (c *channel) SetWriteDeadline(t time.Time) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c.writeDeadline = t
	c.writeTimer = resetTimer(c.writeTimer, t, func() {
		s.mu.Lock()
		c.sendCond.Broadcast()
		s.mu.Unlock()
	})
	c.sendCond.Broadcast()
	return nil
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
