package qmux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
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
	// the control queue (see channel.copyLocked); past it, they wait for
	// the writer like longer ones.
	copyBudget = 64 << 10
)

// writer holds the reusable buffers of the goroutine writing a batch: the
// writer goroutine, or a Read about to wait (Session.flushBeforeWait),
// whichever set Session.writing.
type writer struct {
	buf  []byte      // control messages, headers and copied payloads of a batch
	iov  net.Buffers // the batch: segments of buf and payloads written in place
	out  net.Buffers // the view of iov that WriteTo consumes
	sent []*channel  // one entry per payload written in place
	rest []byte      // the end of buf that a Read's write left unwritten, to go first
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
	for {
		s.mu.Lock()
		for s.writing || !s.closed && len(w.rest) == 0 && !s.hasWorkLocked() {
			s.work.Wait()
		}
		if s.closed {
			s.finishLocked()
			return
		}
		s.fillBatchLocked()
		s.writing = true
		s.mu.Unlock()

		err := w.flush(s.sock, s.vectored)

		s.mu.Lock()
		s.writing = false
		for i, c := range w.sent {
			c.inflight--
			if c.inflight == 0 {
				c.sendCond.Broadcast()
			}
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

// finishLocked ends the writer. After a local Close it first sends the
// control messages and short Writes' data queued before it (the Writes
// that were still waiting failed), then closes the connection. It unlocks
// mu.
func (s *Session) finishLocked() {
	if !s.lingering {
		s.mu.Unlock()
		return
	}
	w := &s.writer
	s.takeQueuedLocked()
	s.mu.Unlock()
	s.conn.Write(w.buf) // the session is over: a failure changes nothing
	s.conn.Close()
}

// takeQueuedLocked starts a batch in the writer's buf: what a Read's
// write left unwritten, then the control messages and copied data.
func (s *Session) takeQueuedLocked() {
	w := &s.writer
	n := copy(w.buf[:cap(w.buf)], w.rest) // rest is the end of buf: copy moves it to the front
	w.buf = append(w.buf[:n], s.ctl...)
	w.rest, s.ctl, s.ctlData = nil, s.ctl[:0], 0
}

// hasWorkLocked reports whether anything waits to be written.
func (s *Session) hasWorkLocked() bool {
	return len(s.ctl) > 0 || s.adjusts.len() > 0 || s.ready.len() > 0
}

// flushBeforeWait writes what is queued from the goroutine of a Read that
// is about to wait, if the writer goroutine is not writing: the Read has
// nothing better to do, and the writer would have to be woken for it (a
// request written, then its reply awaited). Only control messages and
// copied data qualify, and the write does not wait for the connection:
// what it leaves unwritten, the writer goroutine writes first.
func (s *Session) flushBeforeWait() {
	s.mu.Lock()
	w := &s.writer
	if s.closed || s.writing || len(w.rest) > 0 || s.ready.len() > 0 || !s.hasWorkLocked() {
		s.mu.Unlock()
		return
	}
	s.fillBatchLocked() // no channel is ready: all of the batch is in buf
	s.writing = true
	s.mu.Unlock()

	n, err := s.tw.tryWrite(w.buf)

	s.mu.Lock()
	s.writing = false
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

// fillBatchLocked moves the queued control messages, window grants and up
// to batchBudget bytes of data into the writer's batch. Ready channels send
// one packet per turn and go back to the end of the queue, so large writes
// interleave fairly.
func (s *Session) fillBatchLocked() {
	w := &s.writer
	s.takeQueuedLocked()
	for s.adjusts.len() > 0 {
		c := s.adjusts.pop()
		c.adjustQueued = false
		if !c.sentClose && c.grant > 0 {
			w.buf = appendFrame(w.buf, frame{typ: msgChannelWindowAdjust, recipient: c.remoteID, window: c.grant})
		}
		c.grant = 0
	}
	w.iov = w.iov[:0]
	mark := 0 // w.buf[mark:] is not yet in w.iov
	for budget := batchBudget; budget > 0 && s.ready.len() > 0; {
		c := s.ready.pop()
		c.readyQueued = false
		if c.pending == nil || c.sendWindow == 0 {
			continue
		}
		k := min(c.unsent, int(c.sendWindow), int(c.remoteMaxPacket), budget)
		w.buf = appendFrame(w.buf, frame{typ: msgChannelData, recipient: c.remoteID, length: uint32(k)})
		for left := k; left > 0; {
			n := min(len(c.pending), left)
			if s.vectored && n >= inPlaceThreshold {
				w.iov = append(w.iov, w.buf[mark:], c.pending[:n])
				mark = len(w.buf)
				c.inflight++
				w.sent = append(w.sent, c)
			} else {
				w.buf = append(w.buf, c.pending[:n]...)
			}
			left -= n
			if c.pending = c.pending[n:]; len(c.pending) == 0 {
				c.nextSegmentLocked()
			}
		}
		c.unsent -= k
		c.written += k
		c.sendWindow -= uint32(k)
		budget -= k
		if c.pending == nil {
			c.sendCond.Broadcast()
		} else {
			c.queueReadyLocked()
		}
	}
	if mark < len(w.buf) {
		w.iov = append(w.iov, w.buf[mark:])
	}
}

// flush writes the batch. Vectored connections get one writev; others one
// Write of the copied batch.
func (w *writer) flush(conn io.Writer, vectored bool) error {
	if !vectored {
		_, err := conn.Write(w.buf)
		return err
	}
	w.out = w.iov
	_, err := w.out.WriteTo(conn)
	clear(w.iov) // drop the references to callers' buffers
	return err
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
