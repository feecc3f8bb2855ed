package qmux

import "github.com/qtalkkit/qtalk/mux"

var _ mux.WriteDoneChannel = (*channel)(nil)

// closedWriteDone stands for a WriteDone channel that was closed.
var closedWriteDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// WriteDone returns a channel that is closed once Writes fail for good:
// after CloseWrite or Close, the peer's CLOSE, a refused open, or the end
// of the session (mux.WriteDoneChannel). It is made on the first call, so
// that channels nobody asks cost nothing.
func (c *channel) WriteDone() <-chan struct{} {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.send.writeDone == nil {
		c.send.writeDone = make(chan struct{})
		c.writesEndedLocked()
	}
	return c.send.writeDone
}

// writesEndedLocked closes the channel of WriteDone if Writes now fail
// for good. It is called, with s.mu held, wherever they may have come to:
// retractLocked (CloseWrite, Close, the peer's CLOSE), a refused open and
// the end of the session.
func (c *channel) writesEndedLocked() {
	h := &c.send
	if h.writeDone == nil || h.writeDone == closedWriteDone {
		return
	}
	if c.s.closed || !c.state.writable() {
		close(h.writeDone)
		h.writeDone = closedWriteDone
	}
}
