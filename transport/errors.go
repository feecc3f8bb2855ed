package transport

import (
	"errors"
	"fmt"
	"net"
)

var (
	// ErrBadAddress is matched by every error of ParseAddress, and so by
	// the errors of Dial and Listen for an address that does not parse. The
	// error itself is an *AddressError naming the bad part.
	ErrBadAddress = errors.New("transport: bad address")

	// ErrUnknownScheme is matched, along with ErrBadAddress, by the error for
	// an address whose scheme no connector is registered for.
	ErrUnknownScheme = errors.New("transport: unknown scheme")

	// ErrUnsupported reports an operation a connector does not offer, such
	// as listening on an exec address. It matches errors.ErrUnsupported too.
	ErrUnsupported = fmt.Errorf("transport: %w", errors.ErrUnsupported)

	// ErrListenerClosed is returned by Accept after the listener was closed.
	// It matches net.ErrClosed too.
	ErrListenerClosed = fmt.Errorf("transport: listener closed: %w", net.ErrClosed)
)

// An AddressError reports an address that does not parse. It matches
// ErrBadAddress, and ErrUnknownScheme when that is the reason.
type AddressError struct {
	Addr   string // the address as given
	Reason string // what is wrong with it, naming the bad part
	Err    error  // an underlying sentinel such as ErrUnknownScheme, or nil
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("transport: bad address %q: %s", e.Addr, e.Reason)
}

// Is reports whether target is ErrBadAddress.
func (e *AddressError) Is(target error) bool { return target == ErrBadAddress }

// Unwrap returns the underlying sentinel, if any.
func (e *AddressError) Unwrap() error { return e.Err }

// An UpgradeError is the error of dialing a ws:// or wss:// address whose
// server answered the WebSocket upgrade with an HTTP status other than
// 101 Switching Protocols (an HTTP server without a WebSocket at that
// path, say), or with bytes that are no HTTP (for wss://, no TLS).
type UpgradeError struct {
	URL        string // the URL dialed, without its query
	StatusCode int    // 404; 0 when the answer was no HTTP
	Status     string // "404 Not Found"
	Server     string // the Server header of the reply, if any
	Prefix     []byte // the answer's first bytes (at most 16), when it was no HTTP (or TLS)
	Err        error  // the WebSocket library's error
}

func (e *UpgradeError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("transport: %s answered the WebSocket upgrade with %q: no HTTP", e.URL, e.Prefix)
	}
	return fmt.Sprintf("transport: %s answered the WebSocket upgrade with HTTP %s", e.URL, e.Status)
}

// Unwrap returns the WebSocket library's error.
func (e *UpgradeError) Unwrap() error { return e.Err }
