package qmux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"time"
)

const (
	// batchBudget bounds the payload bytes of one batch, so that control
	// messages queued meanwhile wait at most one batch.
	batchBudget = 256 << 10

	// inPlaceThreshold is the payload length from which, on connections that
	// support vectored writes, a payload is written from the caller's buffer
	// instead of being copied.
	inPlaceThreshold = 2 << 10

	// copyBudget bounds the bytes of DATA that short Writes copied into
	// the session's data queue (see channel.copyLocked); past it, they
	// wait for the writer like longer ones.
	copyBudget = 64 << 10
)

// A writer is the role of writing to the connection: taking what is
// queued into a batch and writing the batch with one call. At most one
// goroutine holds the role at a time: the writer goroutine (writeLoop), or
// a Read about to wait (Session.flushBeforeWait), which takes it only when
// it is free and nothing needs waiting for.
//
// held and rest are guarded by Session.mu; the other fields belong to the
// goroutine that holds the role, and vectored is set by New.
type writer struct {
	held     bool   // a goroutine holds the role
	rest     []byte // the end of buf that a Read's write left unwritten, to go first
	vectored bool   // the connection writes net.Buffers with one system call and writeInPlace is on

	buf  []byte      // control messages, headers and copied payloads of a batch
	iov  net.Buffers // the batch: segments of buf and payloads written in place
	mark int         // buf[mark:] is not yet in iov
	out  net.Buffers // the view of iov that WriteTo consumes
	sent []*channel  // one entry per payload written in place
}

// A tryWriter writes what it can of p with one system call that does not
// wait for the connection to take it.
type tryWriter interface {
	tryWrite(p []byte) (int, error)
}

// writeLoop drains the control messages and the channels' data into
// batches, each written with one call, until the session ends. It writes
// as soon as there is anything to write, so messages queued while a write
// is under way go out together in the next one.
func (s *Session) writeLoop() {
	defer s.wg.Done()
	w := &s.writer
	yielded := false
	for {
		s.mu.Lock()
		if yielded {
			s.stopYieldLocked() // back from the yield
		}
		for w.held || !s.closed && len(w.rest) == 0 && !s.hasWorkLocked() {
			yielded = false
			s.work.Wait()
		}
		if s.closed {
			s.finishLocked()
			return
		}
		if !yielded && s.fast(yieldBeforeBatch) && s.ready.len() == 0 {
			// Only short messages wait: let the goroutines ready to
			// run add theirs first (the writer, just woken, would run
			// before them), once; a Read's flush may take them
			// meanwhile, and the yield timer after maxYield.
			yielded = true
			s.armYieldLocked()
			s.mu.Unlock()
			yield()
			continue
		}
		yielded = false
		w.held = true
		s.fillBatchLocked()
		s.mu.Unlock()

		s.writeSince.Store(time.Now().UnixNano())
		n, err := w.flush(s.sock)
		s.sent.Add(uint64(n))
		s.writeSince.Store(0)

		s.mu.Lock()
		w.held = false
		for i, c := range w.sent {
			c.send.writtenLocked()
			w.sent[i] = nil
		}
		w.sent = w.sent[:0]
		s.mu.Unlock()
		if err != nil {
			s.fail(writeError(err))
			s.mu.Lock()
			s.finishLocked() // the write may have failed on a local Close's deadline
			return
		}
	}
}

// maxYield bounds the writer's yield before a batch (yieldBeforeBatch).
// runtime.Gosched puts the writer on the runtime's global run queue, which
// a busy processor looks at only once in 61 turns: with many calls in
// flight, or while a GC worker holds the other processor, the writer came
// back milliseconds later, and everything queued waited as long. Past
// maxYield, the yield timer writes what waits itself (yieldTimeout),
// without waiting for the connection, as a Read about to wait does. Most
// yields take a few tens of microseconds.
const maxYield = 200 * time.Microsecond

// yield is runtime.Gosched; a variable for the tests, which hold the
// writer in its yield.
var yield = runtime.Gosched

// armYieldLocked starts the yield timer for a yield of the writer, on
// connections the timer can write to without waiting (flushOnRead's).
func (s *Session) armYieldLocked() {
	if s.tw == nil {
		return
	}
	s.yielding = true
	s.yieldTimer.arm(time.Now(), maxYield) // if the timer of an earlier yield is about to run, it covers this one
}

// stopYieldLocked stops the yield timer once the writer is back.
func (s *Session) stopYieldLocked() {
	s.yielding = false
	s.yieldTimer.stop()
}

// yieldTimeout writes what waits for a writer still in its yield
// maxYield after it began (see flushQueued).
func (s *Session) yieldTimeout() {
	s.mu.Lock()
	s.yieldTimer.fired()
	yielding := s.yielding
	s.mu.Unlock()
	if yielding {
		s.flushQueued()
	}
}

// finishLocked ends the writer, which holds the role for good. After a
// local Close it first sends the control messages and short Writes' data
// queued before it (the Writes that were still waiting failed), then closes
// the connection. It unlocks mu.
func (s *Session) finishLocked() {
	if !s.lingering {
		s.mu.Unlock()
		return
	}
	w := &s.writer
	s.takeQueuedLocked()
	s.mu.Unlock()
	n, _ := s.conn.Write(w.buf) // the session is over: a failure changes nothing
	s.sent.Add(uint64(n))
	s.conn.Close()
}

// takeQueuedLocked starts a batch in the writer's buf: what a Read's
// write left unwritten, then the control messages and the copied data, in
// the order they were queued.
func (s *Session) takeQueuedLocked() {
	w := &s.writer
	n := copy(w.buf[:cap(w.buf)], w.rest) // rest is the end of buf: copy moves it to the front
	w.buf, w.rest = w.buf[:n], nil
	s.unsignalled = false // this batch takes it
	s.lateSince = time.Time{}
	done := 0 // s.copied[:done] is in buf
	for s.ctl.len() > 0 {
		m := s.ctl.pop()
		w.buf = append(w.buf, s.copied[done:m.after]...)
		w.buf = appendFrame(w.buf, m.f)
		done = m.after
	}
	w.buf = append(w.buf, s.copied[done:]...)
	s.copied, s.ctlBytes = s.copied[:0], 0
}

// hasWorkLocked reports whether anything waits to be written.
func (s *Session) hasWorkLocked() bool {
	return s.ctl.len() > 0 || len(s.copied) > 0 || s.grants.len() > 0 || s.ready.len() > 0
}

// flushBeforeWait writes what is queued from the goroutine of a Read that
// is about to wait (flushQueued): the Read has nothing better to do, and
// the writer goroutine would have to be woken for it (a request written,
// then its reply awaited). It first rings for Accept if that is owed
// (accept.go).
func (s *Session) flushBeforeWait() {
	s.payAccept()
	s.flushQueued()
}

// flushQueued writes what is queued from the calling goroutine, if the
// writer role is free, on sockets (flushOnRead): for a Read about to wait,
// for a Close or an Accept in a quiet session (quiet.go), and for the
// yield timer and the deferred work (timer.go). Only control messages and
// copied data qualify, and the write does not wait for the connection:
// what it leaves unwritten, the writer goroutine writes first.
func (s *Session) flushQueued() {
	s.mu.Lock()
	w := &s.writer
	if s.closed || w.held || len(w.rest) > 0 || s.ready.len() > 0 || !s.hasWorkLocked() {
		s.mu.Unlock()
		return
	}
	w.held = true
	s.fillBatchLocked() // no channel is ready: all of the batch is in buf
	s.mu.Unlock()

	n, err := s.tw.tryWrite(w.buf)
	s.sent.Add(uint64(n))

	s.mu.Lock()
	w.held = false
	if n < len(w.buf) && err == nil {
		w.rest = w.buf[n:]
	}
	if len(w.rest) > 0 || s.closed || s.hasWorkLocked() {
		s.work.Signal() // the writer may have been woken, and waited, meanwhile
	}
	s.mu.Unlock()
	if err != nil {
		s.fail(writeError(err))
	}
}

// fillBatchLocked moves the queued control messages, copied data, window
// grants and up to batchBudget bytes of the ready channels' data into the
// writer's batch. Ready channels send one packet per turn and go back to
// the end of the queue, so large writes interleave fairly.
func (s *Session) fillBatchLocked() {
	w := &s.writer
	s.takeQueuedLocked()
	for s.grants.len() > 0 {
		c := s.grants.pop()
		c.recv.grantQueued = false
		if c.state == opening {
			continue // the peer's number is not known yet: the confirmation queues the grant
		}
		if !c.state.closeSent() && c.recv.grant > 0 {
			w.buf = appendFrame(w.buf, frame{typ: msgChannelWindowAdjust, recipient: c.remoteID, window: c.recv.grant})
		}
		c.recv.grant = 0
	}
	w.iov, w.mark = w.iov[:0], 0
	for budget := batchBudget; budget > 0 && s.ready.len() > 0; {
		budget -= s.ready.pop().nextPacketLocked(w, budget)
	}
	if w.mark < len(w.buf) {
		w.iov = append(w.iov, w.buf[w.mark:])
	}
}

// appendHeader adds a message header to the batch.
func (w *writer) appendHeader(f frame) {
	w.buf = appendFrame(w.buf, f)
}

// appendPayload adds p to the batch, and reports whether it did so in
// place: on a vectored connection a long payload is written from the
// caller's memory, which must stay untouched until the batch is written.
// Otherwise p is copied.
func (w *writer) appendPayload(p []byte) bool {
	if w.vectored && len(p) >= inPlaceThreshold {
		w.iov = append(w.iov, w.buf[w.mark:], p)
		w.mark = len(w.buf)
		return true
	}
	w.buf = append(w.buf, p...)
	return false
}

// flush writes the batch and returns how many bytes it wrote. Vectored
// connections get one writev; others one Write of the copied batch.
func (w *writer) flush(conn io.Writer) (int64, error) {
	if !w.vectored {
		n, err := conn.Write(w.buf)
		return int64(n), err
	}
	w.out = w.iov
	n, err := w.out.WriteTo(conn)
	clear(w.iov) // drop the references to callers' buffers
	return n, err
}

// writeError describes a failed write. When the peer went away (its end
// closed or reset) the session ended the same way as when the reader sees
// the end of the stream, so the error matches io.EOF too, whichever
// goroutine noticed first.
func writeError(err error) error {
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrClosedPipe) {
		return fmt.Errorf("qmux: connection closed by peer: %w", errors.Join(io.EOF, err))
	}
	return fmt.Errorf("qmux: write: %w", err)
}
