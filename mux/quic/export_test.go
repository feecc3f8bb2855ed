package quic

import "github.com/qtalkkit/qtalk/mux"

// SendClosed returns a channel closed once the send side of c, a channel
// of this package, is closed: by CloseWrite or Close, or by the peer's
// STOP_SENDING.
func SendClosed(c mux.Channel) <-chan struct{} {
	return c.(*channel).str.Context().Done()
}
