package rpc

import "github.com/qtalkkit/qtalk/mux"

// rawConn is a channel whose first bytes were already read into a frame
// reader's buffer.
type rawConn struct {
	mux.Channel
	pending []byte
}

func newRawConn(ch mux.Channel, fr *frameReader) mux.Channel {
	pending := fr.buffered()
	if len(pending) == 0 {
		return ch
	}
	return &rawConn{Channel: ch, pending: pending}
}

func (c *rawConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Channel.Read(p)
}
