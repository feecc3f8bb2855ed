package relay

import (
	"errors"
	"fmt"
)

var (
	// ErrRefused matches the *RefusedError of a refused preamble.
	ErrRefused = errors.New("relay: refused")

	// ErrBadPreamble reports bytes that are not a well-formed preamble or
	// answer (spec/pipe.md).
	ErrBadPreamble = errors.New("relay: bad preamble")

	// ErrIdle ends a pipe that moved no byte for its idle timeout.
	ErrIdle = errors.New("relay: idle timeout")

	// ErrBadRoute reports a route that cannot be served.
	ErrBadRoute = errors.New("relay: bad route")
)

// A RefusedError is a listener's refusal of the subport a client named,
// with the listener's reason.
type RefusedError struct {
	Subport string
	Reason  string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("relay: subport %q refused: %s", e.Subport, e.Reason)
}

// Is makes a *RefusedError match ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
