package transport

import (
	"io"
	"net"
	"os/exec"
)

// SetStdioStreams makes stdio addresses use r and w until restore is called.
func SetStdioStreams(r io.Reader, w io.Writer) (restore func()) {
	old := stdioStreams
	stdioStreams = func() (io.Reader, io.Writer) { return r, w }
	return func() { stdioStreams = old }
}

// SetExecStarted makes exec Dial call f with each command it starts until
// restore is called.
func SetExecStarted(f func(*exec.Cmd)) (restore func()) {
	old := execStarted
	execStarted = f
	return func() { execStarted = old }
}

// GuardListener returns ln limited and guarded as the listeners of Listen
// are, with the options opts.
func GuardListener(ln net.Listener, opts ...Option) net.Listener {
	o := new(Options)
	for _, opt := range opts {
		opt(o)
	}
	return newGuardedListener(ln, o)
}
