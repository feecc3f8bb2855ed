package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/qtalkkit/qtalk/mux"
)

// A Code classifies an error. The values are those of gRPC, so codes map
// one to one between the two.
type Code uint32

const (
	CodeOK                 Code = 0
	CodeCanceled           Code = 1
	CodeUnknown            Code = 2
	CodeInvalidArgument    Code = 3
	CodeDeadlineExceeded   Code = 4
	CodeNotFound           Code = 5
	CodeAlreadyExists      Code = 6
	CodePermissionDenied   Code = 7
	CodeResourceExhausted  Code = 8
	CodeFailedPrecondition Code = 9
	CodeAborted            Code = 10
	CodeOutOfRange         Code = 11
	CodeUnimplemented      Code = 12
	CodeInternal           Code = 13
	CodeUnavailable        Code = 14
	CodeDataLoss           Code = 15
	CodeUnauthenticated    Code = 16
)

var codeNames = [...]string{
	"ok", "canceled", "unknown", "invalid_argument", "deadline_exceeded",
	"not_found", "already_exists", "permission_denied", "resource_exhausted",
	"failed_precondition", "aborted", "out_of_range", "unimplemented",
	"internal", "unavailable", "data_loss", "unauthenticated",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// An Error is an error with a Code. Handlers return one (or any error,
// which travels as CodeUnknown unless it wraps an *Error or a context
// error); clients receive one for every error the server reported.
type Error struct {
	Code    Code
	Message string
	Details []byte // optional, encoded by the application
	err     error  // the local cause, not sent
	refused bool   // the server did not process the call (a reply flag)
}

// Errorf returns an *Error with code and a formatted message; %w wraps.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), err: errors.Unwrap(err)}
}

// NewError returns an *Error with code that wraps err.
func NewError(code Code, err error) *Error {
	return &Error{Code: code, Message: err.Error(), err: err}
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "rpc: " + e.Code.String()
	}
	return "rpc: " + e.Code.String() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.err }

// Is reports whether target is an *Error with the same code and no
// message (such as ErrNotFound), the context error of the code, or
// ErrRefused for a call the server refused unprocessed.
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Code == CodeCanceled
	case context.DeadlineExceeded:
		return e.Code == CodeDeadlineExceeded
	case ErrRefused:
		return e.refused
	}
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is: any *Error with the same code matches.
var (
	ErrCanceled          = &Error{Code: CodeCanceled}
	ErrUnknown           = &Error{Code: CodeUnknown}
	ErrInvalidArgument   = &Error{Code: CodeInvalidArgument}
	ErrDeadlineExceeded  = &Error{Code: CodeDeadlineExceeded}
	ErrNotFound          = &Error{Code: CodeNotFound}
	ErrPermissionDenied  = &Error{Code: CodePermissionDenied}
	ErrResourceExhausted = &Error{Code: CodeResourceExhausted}
	ErrUnimplemented     = &Error{Code: CodeUnimplemented}
	ErrInternal          = &Error{Code: CodeInternal}
	ErrUnavailable       = &Error{Code: CodeUnavailable}
)

// ErrRefused is matched by the *Error of a call the server refused
// without processing any of it (a reply marked refused, spec/rpc.md
// section 5): such a call may be sent again, on a new channel or over
// another session, even if it is not idempotent.
var ErrRefused = errors.New("rpc: call refused unprocessed")

// Refuse returns the error with which a handler refuses a call it has
// not processed at all, because its server is draining (spec/rpc.md,
// "Draining") or over one of its budgets: it travels with code
// unavailable and the refused flag, so that the client may send the call
// again elsewhere. msg says why; the server's own refusals each name
// their reason (shutting down, RequestTimeout, MaxWaitingChannels).
func Refuse(msg string) *Error {
	return &Error{Code: CodeUnavailable, Message: msg, refused: true}
}

// ErrMalformed is matched by errors about frames or headers that break
// the rpc framing (spec/rpc.md).
var ErrMalformed = errors.New("rpc: malformed frame")

// CodeOf returns the code of err: the code of the first *Error in its
// chain, CodeCanceled or CodeDeadlineExceeded for context errors,
// CodeUnavailable when the session ended, CodeOK for nil and CodeUnknown
// otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	// errors.AsType, unlike errors.As(err, &e), keeps e off the heap.
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case errors.Is(err, mux.ErrSessionClosed):
		return CodeUnavailable
	}
	return CodeUnknown
}

// asError converts err to the *Error sent to the peer. An *Error wrapped
// with more context keeps its code, and its message gains that context.
func asError(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{Code: CodeOf(err), Message: err.Error(), err: err}
	}
	if error(e) == err {
		return e
	}
	context := strings.TrimSuffix(err.Error(), e.Error())
	return &Error{Code: e.Code, Message: context + e.Message, Details: e.Details, err: err}
}

// channelFailed reports whether err, from reading or writing the frames of
// a call, is an error of the channel itself (closed on either side, its
// session ended) rather than the end of the peer's bytes (io.EOF) or one
// of rpc's own, which are *Error values or match ErrMalformed.
func channelFailed(err error) bool {
	return err != nil && err != io.EOF && !isRPCError(err)
}

// isRPCError reports whether err is one of rpc's own errors. (A function
// of its own, as isRefused is, so that calls without an error do not pay
// for the escaping target of errors.As.)
func isRPCError(err error) bool {
	var e *Error
	return errors.As(err, &e) || errors.Is(err, ErrMalformed)
}
