package main

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
)

// Exit statuses; an error with an rpc code exits with exitRPC + the code.
const (
	exitOK          = 0
	exitFailure     = 1   // an error without an rpc code, or failed checks
	exitUsage       = 2   // a bad command line, address or argument
	exitNoCheck     = 3   // check: the server does not serve the check protocol
	exitRPC         = 10  // plus the rpc code: 11 canceled ... 26 unauthenticated
	exitInterrupted = 130 // SIGINT or SIGTERM
)

// A usageError is a mistake in the command line: the command exits with
// exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode returns the exit status for err.
func exitCode(err error) int {
	var (
		ue *usageError
		ce *callError
		re *rpc.Error
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, errNoCheckProtocol):
		return exitNoCheck
	case errors.As(err, &ce):
		return rpcExit(rpc.CodeOf(ce.err))
	case errors.As(err, &re):
		return rpcExit(re.Code)
	}
	return exitFailure
}

func rpcExit(c rpc.Code) int {
	if c == rpc.CodeOK || c > 100 {
		return exitFailure
	}
	return exitRPC + int(c)
}

// A callError is a call that failed; its rpc code is the exit status.
type callError struct {
	op      string // what failed: "call" when empty
	label   string
	err     error
	timeout time.Duration // the --timeout that bounded the call, or 0
}

func (e *callError) Error() string {
	code := rpc.CodeOf(e.err)
	msg := e.err.Error()
	var re *rpc.Error
	switch {
	case code == rpc.CodeDeadlineExceeded && e.timeout > 0:
		msg = fmt.Sprintf("the --timeout of %s expired", e.timeout)
	case errors.As(e.err, &re):
		msg = re.Message
	}
	op := e.op
	if op == "" {
		op = "call"
	}
	return fmt.Sprintf("%s %s: %s: %s", op, e.label, code, msg)
}

func (e *callError) Unwrap() error { return e.err }

// A dialError is a failure to connect.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string {
	// The system's reason, without the layers that repeat the address.
	msg := e.err.Error()
	var (
		op      *net.OpError
		execErr *exec.Error
	)
	switch {
	case errors.Is(e.err, errNotQtalk):
		return fmt.Sprintf("%s: %s", e.addr, msg)
	case errors.As(e.err, &op):
		msg = op.Err.Error()
	case errors.As(e.err, &execErr):
		msg = execErr.Error()
	}
	return fmt.Sprintf("cannot connect to %s: %s", e.addr, msg)
}

func (e *dialError) Unwrap() error { return e.err }

// checkAddress reports a usage error if addr does not parse.
func checkAddress(cmd, addr string) error {
	if _, err := transport.ParseAddress(addr); err != nil {
		return addressError(cmd, err)
	}
	return nil
}

// addressError turns an error of ParseAddress into a usage error.
func addressError(cmd string, err error) error {
	var ae *transport.AddressError
	if errors.As(err, &ae) {
		return usageErrorf("%s: bad address %q: %s", cmd, ae.Addr, ae.Reason)
	}
	return usageErrorf("%s: %v", cmd, err)
}
