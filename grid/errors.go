package grid

import (
	"errors"
	"fmt"

	"github.com/qtalkkit/qtalk/rpc"
)

var (
	// ErrUnavailable is matched by the errors of requests made while their
	// link is down, or cut short by its loss. It wraps rpc.ErrUnavailable,
	// so rpc.CodeOf reports rpc.CodeUnavailable.
	ErrUnavailable = fmt.Errorf("grid: link unavailable: %w", rpc.ErrUnavailable)

	// ErrUnknownHost is returned by Connection for an address that is not
	// one of the configured hosts, or is this host's own.
	ErrUnknownHost = errors.New("grid: unknown host")

	// ErrBadConfig is matched by the errors of New for a config it
	// cannot use.
	ErrBadConfig = errors.New("grid: bad config")

	// ErrNoRequests is returned by Stream.Send on a stream whose handler
	// takes no requests (a requests capacity of 0).
	ErrNoRequests = errors.New("grid: the stream takes no requests")

	// ErrClosed is matched by the errors of Start after Close, and of
	// requests once the Manager is closed.
	ErrClosed = errors.New("grid: manager closed")
)
