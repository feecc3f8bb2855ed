package pipe

import "time"

// A deadline is the state of one read or write deadline. It is guarded by
// the mutex of the half it belongs to.
type deadline struct {
	expired bool        // calls fail with os.ErrDeadlineExceeded
	timer   *time.Timer // sets expired when it fires; nil if none pending
	gen     uint64      // incremented by stop, so a stale timer does nothing
}

// stop cancels a pending timer. Its callback, if already running, sees the
// new generation and leaves the deadline alone.
func (d *deadline) stop() {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.gen++
}
