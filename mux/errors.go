package mux

import (
	"errors"
	"fmt"
	"net"
	"os"
)

var (
	// ErrSessionClosed is matched by the errors of operations on a session
	// that has ended. The session's cause, if any, is wrapped alongside.
	ErrSessionClosed = errors.New("mux: session closed")

	// ErrOpenRejected reports that the peer refused to open a channel (for
	// example because its accept backlog or channel limit was full).
	ErrOpenRejected = errors.New("mux: open rejected by peer")

	// ErrChannelClosed is returned by operations on a channel after it was
	// closed, or on its write side after CloseWrite or the peer's Close.
	// It matches net.ErrClosed too.
	ErrChannelClosed = fmt.Errorf("mux: channel closed: %w", net.ErrClosed)

	// ErrProtocol is matched by errors that end a session because the peer
	// broke the protocol (a malformed frame, a length over the limit, data
	// past the flow-control window, ...).
	ErrProtocol = errors.New("mux: protocol error")

	// ErrIdleTimeout ends a session that had no channel open and
	// received no data for its idle timeout (qmux's and mux/quic's
	// Config.IdleTimeout, which listeners set): both report this error,
	// so that servers log the end the same way over either. It matches
	// os.ErrDeadlineExceeded.
	ErrIdleTimeout = fmt.Errorf("mux: idle timeout: no channel open and no data received: %w", os.ErrDeadlineExceeded)

	// ErrTooManyChannels reports that opening a channel would exceed the
	// session's limit on open channels.
	ErrTooManyChannels = errors.New("mux: too many open channels")
)
