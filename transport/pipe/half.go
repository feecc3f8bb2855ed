package pipe

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// A half is one direction of a pipe: a bounded ring buffer that one end
// writes and the other reads, with the reader's read deadline and the
// writer's write deadline, so that everything a blocked call waits for is
// guarded by the one mutex it waits under.
type half struct {
	mu sync.Mutex
	// cond is broadcast on every change of the fields guarded by mu.
	cond sync.Cond

	// mu guards all the fields below.
	buf     []byte   // the ring buffer
	r       int      // index in buf of the first unread byte
	n       int      // number of unread bytes
	writing bool     // a Write holds the writer's turn
	rclosed bool     // the reading end was closed
	wclosed bool     // the writing end was closed or half-closed
	rdl     deadline // the reading end's read deadline
	wdl     deadline // the writing end's write deadline
}

func newHalf(size int) *half {
	h := &half{buf: make([]byte, size)}
	h.cond.L = &h.mu
	return h
}

// read copies buffered bytes into p, waiting while none are buffered.
func (h *half) read(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		switch {
		case h.rclosed:
			return 0, net.ErrClosed
		case h.rdl.expired:
			return 0, os.ErrDeadlineExceeded
		case len(p) == 0:
			return 0, nil
		case h.n > 0:
			k := h.take(p)
			h.cond.Broadcast()
			return k, nil
		case h.wclosed:
			return 0, io.EOF
		}
		h.cond.Wait()
	}
}

// write copies all of p into the buffer, waiting for space as needed and for
// any other Write on the same end to finish first.
func (h *half) write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	written, turn := 0, false
	for {
		var err error
		switch {
		case h.wclosed:
			err = net.ErrClosed
		case h.rclosed:
			err = io.ErrClosedPipe
		case h.wdl.expired:
			err = os.ErrDeadlineExceeded
		case !turn && h.writing:
			h.cond.Wait()
			continue
		case len(p) == 0:
		case h.n < len(h.buf):
			turn, h.writing = true, true
			k := h.put(p)
			p, written = p[k:], written+k
			h.cond.Broadcast()
			continue
		default:
			turn, h.writing = true, true
			h.cond.Wait()
			continue
		}
		if turn {
			h.writing = false
			h.cond.Broadcast()
		}
		return written, err
	}
}

// take moves up to len(p) buffered bytes into p. h.mu must be held.
func (h *half) take(p []byte) int {
	k := copy(p[:min(len(p), h.n)], h.buf[h.r:min(len(h.buf), h.r+h.n)])
	if k < len(p) && k < h.n {
		k += copy(p[k:min(len(p), h.n)], h.buf)
	}
	h.r = (h.r + k) % len(h.buf)
	h.n -= k
	if h.n == 0 {
		h.r = 0 // keep later writes contiguous
	}
	return k
}

// put moves as much of p as fits into the buffer. h.mu must be held.
func (h *half) put(p []byte) int {
	w := (h.r + h.n) % len(h.buf)
	free := len(h.buf) - h.n
	k := copy(h.buf[w:min(len(h.buf), w+free)], p)
	if k < len(p) && k < free {
		k += copy(h.buf[:free-k], p[k:])
	}
	h.n += k
	return k
}

// closeReader records that the reading end closed: buffered data is dropped
// and the writer fails from now on.
func (h *half) closeReader() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rclosed = true
	h.r, h.n = 0, 0
	h.rdl.stop()
	h.cond.Broadcast()
}

// closeWriter records that the writing end closed or half-closed: the
// reader gets io.EOF once the buffer is drained.
func (h *half) closeWriter() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wclosed = true
	h.wdl.stop()
	h.cond.Broadcast()
}

// setDeadline sets d, which is h.rdl or h.wdl, to t. If the side d
// belongs to is closed (h.rclosed for h.rdl, h.wclosed for h.wdl) nothing
// changes, so no timer outlives Close.
func (h *half) setDeadline(d *deadline, t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if (d == &h.rdl && h.rclosed) || (d == &h.wdl && h.wclosed) {
		return
	}
	d.stop()
	d.expired = false
	switch {
	case t.IsZero():
	case !t.After(time.Now()):
		d.expired = true
	default:
		gen := d.gen
		d.timer = time.AfterFunc(time.Until(t), func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if d.gen == gen { // not reset or stopped meanwhile
				d.expired = true
				d.timer = nil
				h.cond.Broadcast()
			}
		})
	}
	h.cond.Broadcast()
}
