package rpc

import (
	"net"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

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

// closedChannel is the channel of doneResponse's Conn: it fails as a
// channel that was closed does.
type closedChannel struct{}

var noAddr net.Addr = &net.UnixAddr{}

func (closedChannel) Read([]byte) (int, error)         { return 0, mux.ErrChannelClosed }
func (closedChannel) Write([]byte) (int, error)        { return 0, mux.ErrChannelClosed }
func (closedChannel) Close() error                     { return mux.ErrChannelClosed }
func (closedChannel) CloseWrite() error                { return mux.ErrChannelClosed }
func (closedChannel) ID() uint64                       { return 0 }
func (closedChannel) LocalAddr() net.Addr              { return noAddr }
func (closedChannel) RemoteAddr() net.Addr             { return noAddr }
func (closedChannel) SetDeadline(time.Time) error      { return nil }
func (closedChannel) SetReadDeadline(time.Time) error  { return nil }
func (closedChannel) SetWriteDeadline(time.Time) error { return nil }
