package qmux

import (
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// A recvHalf is the receiving side of a channel: the bytes the peer sent
// that no Read has taken yet, this side's window, and why Reads end.
//
// Its fields are guarded by mu, except where noted. Lock order: Session.mu
// before mu. The reader goroutine is the only one to add data; it does so
// in two ways, and in both it writes into memory without holding mu, which
// is then its own:
//
//   - the free part of the ring, while ringFilling is true: Reads only
//     touch the unread part, and only the reader grows the ring;
//   - the buffer of a Read waiting for data (the offer), while the offer is
//     in state offerFilling: the Read waits for the state to change before
//     it returns.
//
// The path of a byte: the reader parses a DATA header (reader.go) and
// calls receiveData, which puts the payload into the buffer of a waiting
// Read if there is one (readIntoOffer), else into the ring; read copies
// from the ring, and counts what was consumed so that the window is given
// back to the peer (grantLocked, then Session.queueGrant) once half of it
// was read.
type recvHalf struct {
	mu   sync.Mutex
	cond sync.Cond // L is &mu; signalled when a Read may progress

	buf         []byte // ring of received bytes; grows up to the window
	head, n     int    // the unread bytes are buf[head:head+n] modulo len(buf)
	ringFilling bool   // the reader is writing into buf's free part without holding mu
	window      uint32 // bytes the peer may still send
	consumed    uint32 // bytes read but not yet granted back
	size        uint32 // window + n + consumed: what the channel took of the session's receive credit
	hungry      bool   // short of its fair share of that credit (see recvCredit)
	end         recvEnd
	offer       offer
	deadline    time.Time
	timer       *time.Timer
	notice      *readNotice // NotifyRead's, until it fires or is stopped

	// Guarded by Session.mu: the window to give back, which the writer
	// sends as a WINDOW_ADJUST.
	grant       uint32
	grantQueued bool // in Session.grants
}

// A recvEnd is why Reads stop, from the weakest reason to the strongest: a
// stronger one replaces a weaker one, never the reverse. The first two let
// Reads drain the buffered bytes first; the last two fail them at once.
type recvEnd uint8

const (
	recvOpen         recvEnd = iota
	recvSessionEnded         // the session ended: its error
	recvEOF                  // the peer sent EOF or CLOSE: io.EOF
	recvRejected             // the peer refused the open: mux.ErrOpenRejected
	recvClosed               // Close was called: mux.ErrChannelClosed
)

// An offer is the buffer of a Read waiting for data, lent to the reader
// goroutine so that a payload can skip the ring. At most one Read offers
// its buffer at a time.
type offer struct {
	buf     []byte
	state   offerState
	n       int    // bytes the reader put into buf, once offerFilled
	counted bool   // the Read counts in readRole.waiting; the reader that fills buf counts it out
	stamp   uint32 // of the count (readRole.ages)
}

type offerState uint8

const (
	offerNone    offerState = iota
	offerWaiting            // a Read waits with buf; the reader may take it
	offerFilling            // the reader took buf and fills it without holding mu
	offerFilled             // the reader is done: n bytes for the Read to count
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

// minWindow is the window every channel has, whatever the session's
// credit (Config.SessionWindowSize), unless WindowSize is smaller: one
// minimum-size ring buffer.
const minWindow = minBufferSize

// init gives the channel its first window: what it can take of the
// session's credit, up to its target (recvCredit.target), and minWindow at
// least.
func (r *recvHalf) init(window uint32, credit *recvCredit) {
	r.cond.L = &r.mu
	r.size = credit.take(min(minWindow, window), credit.target(window))
	r.window = r.size
	credit.holders.Add(1)
}

// A recvCredit is what is left of a session's receive credit
// (Config.SessionWindowSize) for its channels' windows. A channel takes
// from it when it opens and when it gives window back, and returns what
// it took when it is closed or released. What is left goes below zero
// only by the minWindow of channels opened when there was less. Windows
// beyond Config.WindowSize take only from its upper half (grow).
//
// A channel whose reader gave window back while it held less than its
// fair share (the credit divided by the channels holding some) and found
// too little left to take it there is hungry. While one is, every channel
// aims at its fair share: one above it keeps back, from the window it
// would give back, what takes it down to its share, and one below takes
// up to its share only. So the windows of channels that all read even out
// in the time it takes to read a window or two, whichever opened first,
// while channels that hold little and read nothing (idle ones) leave the
// credit to those that read.
type recvCredit struct {
	free      atomic.Int64
	holders   atomic.Int64 // channels holding credit: taken in init, not yet returned
	hungry    atomic.Int64 // channels with recvHalf.hungry set
	size      int64        // Config.SessionWindowSize
	unbounded bool         // SessionWindowSize is negative: take gives all it is asked
}

func newRecvCredit(size int64) *recvCredit {
	rc := &recvCredit{size: size, unbounded: size < 0}
	rc.free.Store(size)
	return rc
}

// fair is a channel's fair share of the credit, within window and at least
// minWindow (or window if smaller).
func (rc *recvCredit) fair(window uint32) uint32 {
	if rc.unbounded {
		return window
	}
	fair := rc.size / max(rc.holders.Load(), 1)
	return uint32(max(min(fair, int64(window)), int64(min(minWindow, window))))
}

// target is the window a channel aims at: window, or its fair share while
// a channel is hungry.
func (rc *recvCredit) target(window uint32) uint32 {
	if rc.hungry.Load() > 0 {
		return rc.fair(window)
	}
	return window
}

// take takes as much credit as is left, up to want, and at least least,
// and returns how much it took.
func (rc *recvCredit) take(least, want uint32) uint32 {
	if rc.unbounded {
		return want
	}
	for {
		free := rc.free.Load()
		n := max(min(int64(want), free), int64(least))
		if n == 0 {
			return 0
		}
		if rc.free.CompareAndSwap(free, free-n) {
			return uint32(n)
		}
	}
}

// grow takes up to want of the credit for a window beyond WindowSize, as
// far as that leaves half of SessionWindowSize: channels that open while
// others stream with grown windows still find that half for theirs.
func (rc *recvCredit) grow(want uint32) uint32 {
	if rc.unbounded {
		return want
	}
	for {
		free := rc.free.Load()
		n := min(int64(want), free-rc.size/2)
		if n <= 0 {
			return 0
		}
		if rc.free.CompareAndSwap(free, free-n) {
			return uint32(n)
		}
	}
}

// returnCreditLocked gives back what the channel took of the session's
// credit: it is closed, so what it buffers is dropped and what comes is
// discarded, or released.
func (r *recvHalf) returnCreditLocked(credit *recvCredit) {
	if r.size == 0 {
		return // returned already
	}
	if !credit.unbounded {
		credit.free.Add(int64(r.size))
	}
	credit.holders.Add(-1)
	r.size = 0
	r.setHungryLocked(credit, false)
}

// setHungryLocked records whether the channel is hungry (see recvCredit).
func (r *recvHalf) setHungryLocked(credit *recvCredit, hungry bool) {
	if hungry != r.hungry {
		r.hungry = hungry
		if hungry {
			credit.hungry.Add(1)
		} else {
			credit.hungry.Add(-1)
		}
	}
}

// read reads data the peer sent, returning io.EOF after the peer's EOF or
// CLOSE once the buffered data is read. A Read waiting for data offers p to
// the reader goroutine, which may fill it straight from the connection
// (see receiveData); on sockets, it first writes what the session has
// queued (see Session.flushBeforeWait).
func (r *recvHalf) read(c *channel, p []byte) (int, error) {
	r.mu.Lock()
	mine := false // this Read made the offer
	flushed := c.s.tw == nil
	for {
		if mine && r.offer.state == offerFilled {
			n := r.offer.n
			r.offer, mine = offer{}, false
			if n > 0 && r.end != recvClosed {
				return c.consumedLocked(n)
			}
		}
		if mine && r.offer.state == offerFilling {
			// The reader is writing into p: wait for it, which takes
			// no longer than a copy.
			r.cond.Wait()
			continue
		}
		if err := c.readErrLocked(len(p)); err != nil || r.n > 0 || len(p) == 0 {
			if mine {
				r.offer = offer{} // not taken: withdrawn
			}
			if err == nil && r.n > 0 {
				return c.consumedLocked(r.readLocked(p))
			}
			r.mu.Unlock()
			return 0, err
		}
		if r.offer.state == offerNone && c.s.fast(readIntoOffer) {
			r.offer, mine = offer{buf: p, state: offerWaiting}, true
		}
		if !flushed {
			// Before waiting, write what waits to be written; then
			// look again.
			flushed = true
			r.mu.Unlock()
			c.s.flushBeforeWait()
			r.mu.Lock()
			continue
		}
		if c.s.role.dl == nil {
			r.cond.Wait()
			continue
		}
		took, stamp := c.s.takeRole(r)
		if took {
			// Nobody reads the connection: read it here (readOnWait).
			r.mu.Unlock()
			c.s.readForWait(r)
			r.mu.Lock()
			continue
		}
		if mine {
			r.offer.counted, r.offer.stamp = true, stamp
		}
		r.cond.Wait()
		if !mine || r.offer.counted {
			r.offer.counted = false
			c.s.waited(stamp)
		}
	}
}

// readErrLocked reports why a Read of n bytes cannot wait for data: it
// fails at once (closed, deadline, refused), or the buffered bytes are gone
// and no more will come. A Read with data to read takes it before the
// latter.
func (c *channel) readErrLocked(n int) error {
	r := &c.recv
	switch {
	case r.end == recvClosed:
		return mux.ErrChannelClosed
	case expired(r.deadline):
		return os.ErrDeadlineExceeded
	case r.end == recvRejected:
		return mux.ErrOpenRejected
	case r.n > 0 || n == 0:
		return nil
	case r.end == recvEOF:
		return io.EOF
	case r.end == recvSessionEnded:
		return c.s.closeErr // written before end, under r.mu
	}
	return nil
}

// consumedLocked ends a Read that got n bytes: it unlocks mu and gives the
// window back if it is time to.
func (c *channel) consumedLocked(n int) (int, error) {
	grant := c.recv.grantLocked(n, c.s.cfg.WindowSize, c.s.cfg.MaxWindowSize, c.s.credit)
	c.recv.mu.Unlock()
	if grant > 0 {
		c.s.queueGrant(c, grant)
	}
	return n, nil
}

// readLocked copies buffered bytes into p.
func (r *recvHalf) readLocked(p []byte) int {
	n := 0
	for n < len(p) && r.n > 0 {
		end := min(r.head+r.n, len(r.buf))
		k := copy(p[n:], r.buf[r.head:end])
		n += k
		r.n -= k
		r.head = (r.head + k) % len(r.buf)
	}
	return n
}

// grantLocked counts n consumed bytes and returns the window to give back
// to the peer: nothing until half the channel's window was consumed, so
// that one WINDOW_ADJUST covers many reads. The channel's window then
// moves towards its target: window (Config.WindowSize) or, as a channel
// read that fast streams, twice its size up to maxWindow
// (Config.MaxWindowSize); or, while a channel is hungry, its fair share
// (recvCredit.target). One above its target gives back to the session's
// credit, rather than to the peer, what it consumed down to the target;
// one below takes what it can of the credit towards it, and is hungry if
// that leaves it below its fair share. Beyond window, it takes only what
// leaves half the session's credit for other channels (recvCredit.grow).
func (r *recvHalf) grantLocked(n int, window, maxWindow uint32, credit *recvCredit) uint32 {
	r.consumed += uint32(n)
	if r.end >= recvEOF || r.consumed < r.size/2 {
		return 0
	}
	grant := r.consumed
	r.consumed = 0
	target := credit.target(window)
	if credit.hungry.Load() == 0 {
		target = max(target, uint32(min(2*uint64(r.size), uint64(maxWindow))))
	}
	switch {
	case r.size > target:
		back := min(grant, r.size-target)
		credit.free.Add(int64(back))
		r.size -= back
		grant -= back
	case r.size < target:
		var more uint32
		if r.size < window {
			more = credit.take(0, min(target, window)-r.size)
		}
		if r.size+more >= window && target > r.size+more {
			more += credit.grow(target - r.size - more)
		}
		r.size += more
		grant += more
	}
	r.setHungryLocked(credit, r.size < credit.fair(window))
	r.window += grant
	return grant
}

// queueGrant queues a WINDOW_ADJUST, merging it with one not yet sent.
func (s *Session) queueGrant(c *channel, grant uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || c.state.closeSent() {
		return
	}
	c.recv.grant += grant
	if !c.recv.grantQueued {
		c.recv.grantQueued = true
		s.grants.push(c)
		s.work.Signal()
	}
}

// receiveData reads a DATA payload of length bytes from in into the
// buffer of a waiting Read, as much as has arrived, and the rest into the
// ring. Called by the reader goroutine.
func (c *channel) receiveData(in *input, length uint32) error {
	r := &c.recv
	r.mu.Lock()
	if r.end == recvEOF {
		r.mu.Unlock()
		return protocolError("DATA for channel %d after its EOF", c.id)
	}
	if length > r.window {
		r.mu.Unlock()
		return protocolError("DATA of %d bytes for channel %d exceeds its window of %d", length, c.id, r.window)
	}
	r.window -= length
	if length == 0 {
		r.mu.Unlock()
		return nil
	}
	if r.end == recvClosed {
		// Nothing will read it: skipped, not buffered.
		r.mu.Unlock()
		if err := in.discard(int(length)); err != nil {
			return truncated(err)
		}
		return nil
	}
	if r.offer.state == offerWaiting && r.n == 0 {
		// A Read is waiting: what the connection has of the payload
		// goes straight into its buffer, skipping the ring. Only what
		// is there already: the Read must not wait for the peer.
		dst := r.offer.buf[:min(len(r.offer.buf), int(length))]
		r.offer.state = offerFilling
		r.mu.Unlock()
		k := in.readAvailable(dst)
		r.mu.Lock()
		r.offer.state, r.offer.n = offerFilled, k
		if r.offer.counted {
			// The Read waits no more for the role's holder, which
			// may lend the role (readLoop).
			r.offer.counted = false
			c.s.waited(r.offer.stamp)
		}
		r.cond.Broadcast()
		r.noticeLocked()
		length -= uint32(k)
		if length == 0 {
			r.mu.Unlock()
			if k < readBufferSize {
				c.s.role.handed = true // see readLoop
			}
			if k >= yieldAfter && c.s.fast(yieldAfterHandoff) {
				// Let the Read run now, as a mutex yields to the
				// waiter it hands over to: it is then likely back
				// and waiting, buffer offered, when the next payload
				// comes, which spares the copy through the ring.
				runtime.Gosched()
			}
			return nil
		}
		if r.end == recvClosed {
			// Closed while the Read's buffer was filled: the rest is
			// skipped, as above (the ring and its credit are gone).
			r.mu.Unlock()
			if err := in.discard(int(length)); err != nil {
				return truncated(err)
			}
			return nil
		}
	}
	need := r.n + int(length)
	if need > len(r.buf) {
		r.growLocked(need)
	}
	tail := (r.head + r.n) % len(r.buf)
	first := r.buf[tail:min(tail+int(length), len(r.buf))]
	second := r.buf[:int(length)-len(first)]
	r.ringFilling = true
	r.mu.Unlock()

	if err := in.readPayload(first, second); err != nil {
		return truncated(err)
	}

	r.mu.Lock()
	r.ringFilling = false
	r.n += int(length)
	r.cond.Signal()
	r.noticeLocked()
	r.recycleLocked()
	r.mu.Unlock()
	return nil
}

// growLocked grows the ring to hold at least need bytes, within the
// channel's window.
func (r *recvHalf) growLocked(need int) {
	size := max(minBufferSize, 2*len(r.buf), need)
	size = min(size, int(r.size))
	var buf []byte
	if size == minBufferSize {
		buf = smallBuffers.Get().(*[minBufferSize]byte)[:]
	} else {
		buf = make([]byte, size)
	}
	n := 0
	if r.n > 0 {
		n = copy(buf, r.buf[r.head:min(r.head+r.n, len(r.buf))])
		copy(buf[n:], r.buf[:r.n-n])
	}
	if len(r.buf) == minBufferSize {
		smallBuffers.Put((*[minBufferSize]byte)(r.buf))
	}
	r.buf, r.head = buf, 0
}

// recycleLocked lets go of the ring once the channel is closed and the
// reader is not writing into it: no Read will take its bytes. A
// minimum-size buffer goes back to the pool.
func (r *recvHalf) recycleLocked() {
	if r.end != recvClosed || r.ringFilling || r.buf == nil {
		return
	}
	if len(r.buf) == minBufferSize {
		smallBuffers.Put((*[minBufferSize]byte)(r.buf))
	}
	r.buf, r.head, r.n = nil, 0, 0
}

// endLocked records why Reads stop, unless a stronger reason is already
// recorded, and wakes them.
func (r *recvHalf) endLocked(e recvEnd) {
	if e > r.end {
		r.end = e
		r.cond.Broadcast()
		r.noticeLocked()
	}
}

// receiveEOF records the peer's EOF. Called by the reader with
// Session.mu held.
func (c *channel) receiveEOF() error {
	r := &c.recv
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end == recvEOF {
		return protocolError("second EOF for channel %d", c.id)
	}
	r.endLocked(recvEOF)
	return nil
}

// setEnd records why Reads stop (see endLocked).
func (r *recvHalf) setEnd(e recvEnd) {
	r.mu.Lock()
	r.endLocked(e)
	r.mu.Unlock()
}

// close fails pending and later Reads, lets go of the buffered bytes and
// the session's credit, and reports whether the channel was open until
// now. Called with Session.mu held.
func (r *recvHalf) close(credit *recvCredit) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end == recvClosed {
		return false
	}
	r.endLocked(recvClosed)
	if r.timer != nil {
		r.timer.Stop()
	}
	r.recycleLocked()
	r.returnCreditLocked(credit)
	return true
}

// setDeadline makes pending and later Reads fail from t on, interrupting
// the wait of one that reads the connection of s (readForWait).
func (r *recvHalf) setDeadline(t time.Time, s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadline = t
	r.timer = resetTimer(r.timer, t, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
		s.interruptHolder(r)
	})
	r.cond.Broadcast()
	if expired(t) {
		s.interruptHolder(r)
	}
}
