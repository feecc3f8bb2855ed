package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/internal/check"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
)

var cmdCheck = &command{
	name:    "check",
	args:    "COMMAND|ADDR",
	summary: "run the interop check against a server or a program over stdio",
	help: `
Check runs the interop check against another implementation: unary calls
in CBOR and JSON, metadata, errors and their codes, an unknown selector,
bad arguments, server and client streams, concurrent calls, raw byte
streams of 1 B, 1 KiB and 1 MiB, and a callback from the server. It prints
PASS or FAIL for each case and exits with status 1 if any failed, or 3
if the server does not serve the check protocol at all.

The argument is an address to dial, or else a command to start with its
stdin and stdout as the connection (the exec: transport): the program must
serve the check protocol over its stdio. Words after "--" are joined into
the command. The protocol's selectors (check:echo, check:metadata,
check:fail, check:stream, check:sum, check:bytes, check:callback) are
specified in spec/check.md; qtalk serve serves them.
` + tlsAddressHelp,
	example: `  qtalk check tcp://127.0.0.1:4242
  qtalk check "qtalk serve --listen stdio:"
  qtalk check -- ./my-server --stdio`,
}

// errChecksFailed is returned when a case failed.
var errChecksFailed = errors.New("check failed")

// errNoCheckProtocol is matched by the error for a server that does not
// know check:echo.
var errNoCheckProtocol = errors.New("check:echo is not served")

// probeCheck calls check:echo once and returns an error matching
// errNoCheckProtocol if the server does not know it, or errNotQtalk if
// the peer at addr speaks another protocol. Other failures are left to the
// cases to report.
func probeCheck(ctx context.Context, p *talk.Peer, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := p.Call(ctx, "check:echo", "probe", nil)
	if ferr := foreign(addr, err); ferr != nil {
		return ferr
	}
	if c := rpc.CodeOf(err); c == rpc.CodeNotFound || c == rpc.CodeUnimplemented {
		return fmt.Errorf("%w: %s", errNoCheckProtocol, c)
	}
	return nil
}

func runCheck(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdCheck)
	timeout := f.Duration("timeout", check.DefaultTimeout, "bound each case")
	tlsFiles := f.clientTLSFlags()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("check: want a COMMAND or an ADDR (see qtalk check --help)")
	}
	addr, err := checkTarget(pos)
	if err != nil {
		return err
	}

	k := &check.Checker{Timeout: *timeout}
	p, err := connect(ctx, "check", f.logger(e), addr, tlsFiles, talk.WithHandler(k.Handler()))
	if err != nil {
		return err
	}
	defer p.Close()
	if err := probeCheck(ctx, p, addr, *timeout); err != nil {
		if errors.Is(err, errNotQtalk) {
			return err
		}
		return fmt.Errorf("check: the server at %s does not serve the check protocol (%w)", addr, err)
	}
	fmt.Fprintf(e.stdout, "checking %s\n", addr)
	names := check.Names()
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	results := k.Run(ctx, p.Client(), func(r check.Result) {
		if r.Err == nil {
			fmt.Fprintf(e.stdout, "PASS  %-*s  %s\n", width, r.Name, roundLatency(r.Elapsed))
		} else {
			fmt.Fprintf(e.stdout, "FAIL  %-*s  %s  %s\n", width, r.Name, roundLatency(r.Elapsed), oneLine(r.Err.Error()))
		}
	})
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	fmt.Fprintf(e.stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("check: %d of %d cases failed against %s: %w", failed, len(results), addr, errChecksFailed)
	}
	return nil
}

// schemeLike matches the start of what is meant as an address: a scheme
// followed by ":" or "/".
var schemeLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*[:/]`)

// checkTarget returns the address to check: the argument if it is an
// address, or else an exec: address for the command of the arguments. An
// argument that looks like an address but does not parse (a known scheme
// with a bad host, "://" with an unknown scheme) is a usage error rather
// than a command.
func checkTarget(args []string) (string, error) {
	if len(args) == 1 {
		arg := args[0]
		_, err := transport.ParseAddress(arg)
		unknown := errors.Is(err, transport.ErrUnknownScheme)
		switch {
		case err == nil:
			return arg, nil
		case unknown && strings.Contains(arg, "://"),
			!unknown && schemeLike.MatchString(arg):
			return "", addressError("check", err)
		}
		return "exec:" + arg, nil // a command, such as bin/server or "qtalk serve --listen stdio:"
	}
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = quoteWord(a)
	}
	return "exec:" + strings.Join(words, " "), nil
}

// quoteWord quotes a word of a command line for transport.Address.Args,
// which joins the quoted parts of a word: it'"'"'s is it's. A "!" is
// quoted too, lest a last word such as a!b read as a subport.
func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t'\"!") {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
}
