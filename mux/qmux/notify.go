package qmux

import "github.com/qtalkkit/qtalk/mux"

var _ mux.ReadNotifier = (*channel)(nil)

// A readNotice is the function NotifyRead is to call, held by the
// channel's recvHalf until it fires, is stopped or is replaced.
type readNotice struct {
	f     func()
	fired bool // guarded by recvHalf.mu
}

// NotifyRead calls f in a goroutine of its own once a Read would not
// wait: bytes came, the peer's EOF or CLOSE, a refused open, Close, or the
// end of the session (mux.ReadNotifier). The reader goroutine fires it
// where it wakes Reads (receiveData, endLocked); a notice costs no
// goroutine until then.
func (c *channel) NotifyRead(f func()) (stop func() bool) {
	r := &c.recv
	n := &readNotice{f: f}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notice = n
	if r.n > 0 || r.end != recvOpen {
		r.noticeLocked()
	}
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.notice == n {
			r.notice = nil
		}
		return !n.fired
	}
}

// noticeLocked fires the notice of NotifyRead, if there is one.
func (r *recvHalf) noticeLocked() {
	if n := r.notice; n != nil {
		r.notice, n.fired = nil, true
		go n.f()
	}
}
