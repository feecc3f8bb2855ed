package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"

	"github.com/qtalkkit/qtalk/internal/childpipe"
	"github.com/qtalkkit/qtalk/mux"
)

// execStarted, if set, is called with each command started; for tests.
var execStarted func(*exec.Cmd)

// execConnector starts a child process and runs a session over its stdin
// and stdout. Its stderr is the parent's.
type execConnector struct{}

func (execConnector) addressSyntax() syntax { return syntaxCommand }

// Dial starts the command of a.Opaque (see Address.Args). The session ends
// when the child exits, and its Wait error then reports a non-zero exit
// status (errors.As finds the *exec.ExitError). Closing the session kills
// the child and reaps it.
func (c execConnector) Dial(ctx context.Context, a Address, o *Options) (mux.Session, error) {
	conn, err := c.dialConn(ctx, a, o)
	if err != nil {
		return nil, err
	}
	return NewSession(conn, o)
}

func (execConnector) dialConn(ctx context.Context, a Address, o *Options) (io.ReadWriteCloser, error) {
	args, err := a.Args()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := startCommand(args, a.Opaque)
	if err != nil {
		return nil, err // not a nil *execConn in a non-nil interface
	}
	return conn, nil
}

// Listen fails with ErrUnsupported: a child process is dialed, not listened on.
func (execConnector) Listen(ctx context.Context, a Address, o *Options) (Listener, error) {
	return nil, fmt.Errorf("%w: cannot listen on an exec address", ErrUnsupported)
}

// execConn is a connection to a child process: it reads the child's stdout
// and writes its stdin.
type execConn struct {
	cmd    *exec.Cmd
	stdout *os.File // read end of the child's stdout
	stdin  *os.File // write end of the child's stdin
	addr   mux.Addr

	exited  chan struct{} // closed once the child has exited and been reaped
	waitErr error         // cmd.Wait's error; written before exited is closed

	closeOnce sync.Once
}

// startCommand starts args with pipes of its own for stdin and stdout
// (internal/childpipe) and a goroutine that reaps the child when it
// exits.
func startCommand(args []string, cmdline string) (*execConn, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	pipes, err := childpipe.Start(cmd, false)
	if err != nil {
		return nil, err
	}
	if execStarted != nil {
		execStarted(cmd)
	}
	c := &execConn{
		cmd:    cmd,
		stdout: pipes.Stdout,
		stdin:  pipes.Stdin,
		addr:   mux.Addr{Net: "exec", Name: cmdline},
		exited: make(chan struct{}),
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// Read reads the child's stdout. At its end, Read waits for the child to
// exit and returns io.EOF if it exited with status 0, otherwise an error
// that wraps the *exec.ExitError (or other error of exec.Cmd.Wait). A
// grandchild that inherited the child's stdout delays the end until it
// exits too (or Close).
func (c *execConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if err == io.EOF {
		<-c.exited
		if c.waitErr != nil {
			return n, fmt.Errorf("transport: %s: %w", c.cmd.Path, c.waitErr)
		}
	}
	return n, err
}

// Write writes to the child's stdin. If that fails because the child has
// gone, Write waits for it to exit so that, like Read, it reports a
// non-zero exit status, whichever of the two notices first.
func (c *execConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil {
		<-c.exited // soon: the child closed its stdin, or Close killed it
		if c.waitErr != nil {
			return n, fmt.Errorf("transport: %s: %w (write: %w)", c.cmd.Path, c.waitErr, err)
		}
	}
	return n, err
}

// CloseWrite closes the child's stdin: it reads its end while its stdout
// goes on.
func (c *execConn) CloseWrite() error { return c.stdin.Close() }

// Close kills the child, closes the pipes and waits until the child is
// reaped.
func (c *execConn) Close() error {
	c.closeOnce.Do(func() {
		c.cmd.Process.Kill() // fails harmlessly if it has exited
		c.stdin.Close()
		c.stdout.Close()
		<-c.exited
	})
	return nil
}

func (c *execConn) LocalAddr() net.Addr  { return c.addr }
func (c *execConn) RemoteAddr() net.Addr { return c.addr }
