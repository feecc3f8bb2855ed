package quic

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/mux"
)

// ErrListenerClosed is returned by a Listener's Accept after Close. It
// matches net.ErrClosed too. (Through package transport/quic, Accept
// returns transport.ErrListenerClosed instead.)
var ErrListenerClosed = fmt.Errorf("quic: listener closed: %w", net.ErrClosed)

// ErrKeepAliveTimeout ends a session whose peer sent nothing, not even
// the acknowledgement of a keep-alive, within Config.KeepAlivePeriod plus
// Config.KeepAliveTimeout, as qmux's ErrKeepAliveTimeout. It matches
// os.ErrDeadlineExceeded; Wait's error wraps quic-go's
// *quic.IdleTimeoutError too.
var ErrKeepAliveTimeout = fmt.Errorf("quic: keepalive timeout: the peer sent nothing: %w", os.ErrDeadlineExceeded)

// ErrIdleTimeout ends a session that had no channel open and received no
// data for Config.IdleTimeout. It is mux.ErrIdleTimeout, as qmux's
// ErrIdleTimeout is, and matches os.ErrDeadlineExceeded.
var ErrIdleTimeout = mux.ErrIdleTimeout

// isConnErr reports whether err is one of quic-go's errors for a
// connection that has ended, as opposed to one stream's error.
func isConnErr(err error) bool {
	var (
		app       *quicgo.ApplicationError
		transport *quicgo.TransportError
		idle      *quicgo.IdleTimeoutError
		handshake *quicgo.HandshakeTimeoutError
		reset     *quicgo.StatelessResetError
		version   *quicgo.VersionNegotiationError
	)
	return errors.As(err, &app) || errors.As(err, &transport) || errors.As(err, &idle) ||
		errors.As(err, &handshake) || errors.As(err, &reset) || errors.As(err, &version)
}

// endCause returns what Session.Wait reports for a connection that ended
// with err without a local Close: as qmux's, it matches io.EOF when the
// peer closed the session, mux.ErrProtocol when the peer reported a
// protocol error, and ErrKeepAliveTimeout when the peer went silent.
func endCause(err error) error {
	var (
		app  *quicgo.ApplicationError
		idle *quicgo.IdleTimeoutError
	)
	switch {
	case errors.As(err, &app) && app.Remote && app.ErrorCode == codeProtocol:
		return fmt.Errorf("%w: the peer closed the connection: %w", mux.ErrProtocol, err)
	case errors.As(err, &app) && app.Remote && app.ErrorCode == codeSessionClosed:
		return fmt.Errorf("quic: connection closed by peer: %w", errors.Join(io.EOF, err))
	case errors.As(err, &idle):
		return fmt.Errorf("%w: %w", ErrKeepAliveTimeout, err)
	}
	return fmt.Errorf("quic: connection ended: %w", err)
}

// remoteStreamErr returns the stream error in err if the peer caused it.
func remoteStreamErr(err error) (*quicgo.StreamError, bool) {
	var se *quicgo.StreamError
	if errors.As(err, &se) && se.Remote {
		return se, true
	}
	return nil, false
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
