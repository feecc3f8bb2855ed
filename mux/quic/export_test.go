package quic

import "github.com/qtalkkit/qtalk/mux"

// SendClosed returns a channel closed once the send side of c, a channel
// of this package, is closed: by CloseWrite or Close, or by the peer's
// STOP_SENDING.
func SendClosed(c mux.Channel) <-chan struct{} {
	return c.(*channel).str.Context().Done()
}

// SetBeforeConnClose makes f run when s closes its connection, after it
// marked itself ended and before the connection is closed. Set it before
// the session can end.
func SetBeforeConnClose(s *Session, f func()) { s.beforeConnClose = f }
