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
