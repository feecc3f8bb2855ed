package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/qtalkkit/qtalk/relay"
	"github.com/qtalkkit/qtalk/transport"
)

var cmdPipe = &command{
	name:    "pipe",
	args:    "FROM TO",
	summary: "forward each connection accepted on FROM to a new connection to TO",
	help: `
Pipe listens on FROM and, for each connection, connects to TO and copies
the bytes both ways until both sides end: raw byte streams, not qtalk
sessions. Either side may be any address: tcp, unix, tls, ws, wss, and
stdio: (then one connection is piped and pipe exits when it ends, like
socat -); TO may be exec:command too.

A subport on TO picks what to reach: a label (TO!module:name) calls it on
the qtalk server at TO and pipes the call's byte stream; another word
(TO!name) names a route of a 'qtalk serve' [routes] listener (spec/pipe.md).
A subport on FROM makes FROM such a listener: clients must name that
subport, others are refused with a reason.

Pipe runs until SIGINT or SIGTERM, or with stdio: until its one pipe ends.
Exit status: 0 then, 2 for a bad command line or address, 1 when listening
or the stdio: pipe fails.`,
	example: `  qtalk pipe ws://0.0.0.0:8080/db tcp://127.0.0.1:5432
  qtalk pipe stdio: tcp://example.net:7000
  echo hello | qtalk pipe stdio: 'tcp://127.0.0.1:4242!check:bytes'
  qtalk pipe 'tcp://0.0.0.0:4300!files' unix:///run/files.sock`,
}

func runPipe(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdPipe)
	idle := f.Duration("idle-timeout", 0, "end a connection that moves no byte for this long (0: never)")
	maxConns := f.Int("max-conns", 0, "refuse connections beyond this many at once (0: no limit)")
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("pipe: want FROM TO, got %d arguments (see qtalk pipe --help)", len(pos))
	}
	var stdio bool
	for _, addr := range pos {
		a, err := transport.ParseAddress(addr)
		if err != nil {
			return addressError("pipe", err)
		}
		stdio = stdio || a.Scheme == "stdio"
	}
	if from, _ := transport.ParseAddress(pos[0]); from.Scheme == "exec" {
		return usageErrorf("pipe: cannot listen on %q: exec addresses can only be dialed (put it in TO)", pos[0])
	}
	if *idle < 0 || *maxConns < 0 {
		return usageErrorf("pipe: --idle-timeout and --max-conns cannot be negative")
	}

	log := f.logger(e)
	ended := make(chan error, 1)
	opts := []relay.RouterOption{relay.WithLogger(log)}
	if stdio {
		// stdio: is one connection: the first pipe's end is pipe's end.
		opts = append(opts, relay.WithPipeEnded(func(_ relay.Route, err error) {
			select {
			case ended <- err:
			default:
			}
		}))
	}
	r := relay.NewRouter(&relay.Config{IdleTimeout: *idle}, opts...)
	defer r.Close()
	rt := relay.Route{Name: "pipe", From: pos[0], To: pos[1], MaxConns: *maxConns}
	if stdio {
		rt.MaxConns = 1
	}
	if err := r.Update(ctx, []relay.Route{rt}); err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	if addr := r.Addr(pos[0]); addr != nil && !stdio {
		log.Info("piping", "from", pos[0], "listened", addr.String(), "to", pos[1])
	}
	select {
	case err := <-ended:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("pipe: %w", err)
		}
		return nil
	case <-ctx.Done():
		return nil
	}
}
