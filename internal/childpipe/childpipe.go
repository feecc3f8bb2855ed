package childpipe

import (
	"os"
	"os/exec"
)

// Pipes are the parent's ends of a child's standard streams.
type Pipes struct {
	Stdin  *os.File // write end of the child's stdin
	Stdout *os.File // read end of the child's stdout
	Stderr *os.File // read end of the child's stderr, or nil if it was not piped
}

// Start starts cmd with new pipes for its stdin and stdout, and for its
// stderr if withStderr (else cmd.Stderr is left as it is). They are
// pipes of its own rather than Cmd's StdinPipe and StdoutPipe, which
// Wait would close before all was read: the caller closes them. The
// child's ends are closed in the parent once it started; if it does not
// start, every pipe is closed and Start returns the error.
func Start(cmd *exec.Cmd, withStderr bool) (Pipes, error) {
	n := 2
	if withStderr {
		n = 3
	}
	var r, w [3]*os.File
	for i := range n {
		var err error
		if r[i], w[i], err = os.Pipe(); err != nil {
			closeAll(r[:i]...)
			closeAll(w[:i]...)
			return Pipes{}, err
		}
	}
	cmd.Stdin, cmd.Stdout = r[0], w[1]
	if withStderr {
		cmd.Stderr = w[2]
	}
	err := cmd.Start()
	closeAll(r[0], w[1], w[2]) // the child has its copies
	if err != nil {
		closeAll(w[0], r[1], r[2])
		return Pipes{}, err
	}
	return Pipes{Stdin: w[0], Stdout: r[1], Stderr: r[2]}, nil
}

// closeAll closes the files that are not nil.
func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}
