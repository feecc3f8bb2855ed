package service

import "errors"

var (
	// ErrServerClosed is returned by the methods of a Server after Close.
	ErrServerClosed = errors.New("service: server closed")

	// ErrUnknownModule is matched by the errors of New and Reload for a
	// config naming a module that is not registered (compiled in).
	ErrUnknownModule = errors.New("service: unknown module")

	// ErrModuleFailed is matched by the errors of New and Reload when
	// the factory of a module failed.
	ErrModuleFailed = errors.New("service: module failed to open")

	// ErrNotOpen is matched by the errors of Module.Emit when the module
	// is not open.
	ErrNotOpen = errors.New("service: module not open")

	// ErrBadEvent is matched by the errors of Module.Emit for an event
	// name that is not a label name or belongs to the lifecycle.
	ErrBadEvent = errors.New("service: bad event name")

	// ErrCircuitOpen is matched by the errors of calls refused because
	// the circuit breaker of their service is open. Clients see them as
	// rpc.CodeUnavailable.
	ErrCircuitOpen = errors.New("service: circuit open")

	// ErrBuildFailed is matched by the errors of building the program of
	// a service from source (src): its calls fail with
	// rpc.CodeUnavailable, and the build is tried again after a wait.
	ErrBuildFailed = errors.New("service: build failed")
)

// A ListenError is the error of Start or Reload for an address of the
// config that could not be listened on.
type ListenError struct {
	Addr string // as the config lists it
	Err  error  // the transport's error
}

func (e *ListenError) Error() string { return "service: listen on " + e.Addr + ": " + e.Err.Error() }

func (e *ListenError) Unwrap() error { return e.Err }
