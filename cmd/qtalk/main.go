package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// env is what a command reads and writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdinTTY       bool // stdin is a terminal: call does not read it for arguments
	stderrTTY      bool // stderr is a terminal: bench updates its progress in place
}

// A command is one of qtalk's subcommands.
type command struct {
	name    string
	args    string // the synopsis after the flags
	summary string // one line for the command list
	help    string // what --help says, before the flags
	example string // what --help shows last
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order of the help.
var commands []*command

func init() {
	// Set here: each run refers to its command, for the flags.
	cmdServe.run = runServe
	cmdCall.run = runCall
	cmdLs.run = runLs
	cmdDescribe.run = runDescribe
	cmdBench.run = runBench
	cmdCheck.run = runCheck
	cmdPing.run = runPing
	cmdPipe.run = runPipe
	cmdVersion.run = runVersion
	cmdCompletion.run = runCompletion
	commands = []*command{cmdServe, cmdCall, cmdLs, cmdDescribe, cmdPing, cmdPipe, cmdBench, cmdCheck, cmdVersion, cmdCompletion}
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func main() {
	ctx, stop := interruptContext()
	defer stop()
	e := &env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stderrTTY: isTerminal(os.Stderr),
	}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the command of args and returns the exit status, having
// reported any error on e.stderr in one line.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, topUsage())
		return exitUsage
	}
	switch name := args[0]; name {
	case "-version", "--version":
		return report(ctx, e, runVersion(ctx, e, nil))
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, topUsage())
		return exitOK
	case "help":
		if len(args) == 1 {
			fmt.Fprint(e.stdout, topUsage())
			return exitOK
		}
		c := lookupCommand(args[1])
		if c == nil {
			return report(ctx, e, usageErrorf("help: unknown command %q (commands: %s)", args[1], commandNames()))
		}
		return report(ctx, e, c.run(ctx, e, []string{"--help"}))
	}
	c := lookupCommand(args[0])
	if c == nil {
		hint := ""
		if strings.HasPrefix(args[0], "-") {
			hint = "; flags go after the command, e.g. qtalk serve -v"
		}
		return report(ctx, e, usageErrorf("unknown command %q (commands: %s; see qtalk --help)%s", args[0], commandNames(), hint))
	}
	return report(ctx, e, c.run(ctx, e, args[1:]))
}

// report prints err, if any, as one line on e.stderr and returns the exit
// status for it.
func report(ctx context.Context, e *env, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	if errors.Is(context.Cause(ctx), errInterrupted) {
		fmt.Fprintln(e.stderr, "qtalk: interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(e.stderr, "qtalk: "+oneLine(err.Error()))
	return exitCode(err)
}

// oneLine returns the first line of s: a handler's panic, for one, comes
// with its stack.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func topUsage() string {
	var b strings.Builder
	b.WriteString("qtalk serves, calls and checks qtalk peers.\n\nusage: qtalk COMMAND [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Run 'qtalk COMMAND --help' for the flags and an example of each.

addresses: tcp://127.0.0.1:4242 (or tcp/$4:4242), unix:///path.sock,
ws://127.0.0.1:4243/qtalk, wss://host/path, tls://host:port, stdio:,
exec:command args. A TLS address takes ?pin=sha256:HEX to accept the
certificate with that fingerprint (qtalk serve logs it), or ?insecure=1
to accept any.

example:
  qtalk serve &
  qtalk call tcp://127.0.0.1:4242 echo:echo '"hello"'
`)
	return b.String()
}

// errInterrupted is the cause of the context of a command that got
// SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted")

// interruptContext returns a context cancelled with errInterrupted at the
// first SIGINT or SIGTERM; a second one gets the default action, which
// ends the process at once.
func interruptContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			signal.Stop(sigs)
			cancel(errInterrupted)
		case <-done:
		}
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			signal.Stop(sigs)
			close(done)
			cancel(nil)
		}
	}
}

// isTerminal reports whether f is a terminal (a character device that is
// not /dev/null).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
