package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/talk/service"
)

var cmdDescribe = &command{
	name:    "describe",
	args:    "ADDR LABEL",
	summary: "print the argument and result types of LABEL at ADDR",
	help: `
Describe asks the server at ADDR (qtalk:describe) for the types of the
arguments and results of LABEL, and prints them as a Go func type
after the label: 'kv:get(string) (any, bool)'. A reply that is a
stream shows as 'stream T', a call that may fail with an error as
'error' last. Servers know the types of handlers made by package fn
(funcs and methods, such as chat: and kv: in the built-in server), and
ask their upstreams about forwarded labels; other labels fail with
failed_precondition, unknown ones with not_found. With --json it prints
the reply as the server sent it: {"args", "results", "stream", "error"}.
Exit statuses are those of qtalk call.
` + tlsAddressHelp,
	example: `  qtalk describe tcp://127.0.0.1:4242 chat:send
  qtalk describe --json tcp://127.0.0.1:4242 kv:get`,
}

func runDescribe(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdDescribe)
	timeout := f.Duration("timeout", 10*time.Second, "bound connecting and the call (0: no bound but "+dialTimeout.String()+" to connect)")
	asJSON := f.Bool("json", false, "print the reply as JSON")
	tlsFiles := f.clientTLSFlags()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("describe: want ADDR LABEL, got %d arguments (see qtalk describe --help)", len(pos))
	}
	addr, lbl := pos[0], pos[1]
	if err := checkAddress("describe", addr); err != nil {
		return err
	}
	if _, err := label.Parse(lbl); err != nil {
		return usageErrorf("describe: bad label %q: %v", lbl, err)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	p, err := connect(ctx, "describe", f.logger(e), addr, tlsFiles)
	if err != nil {
		return err
	}
	defer p.Close()
	var sig fn.Signature
	if _, err := p.Call(ctx, service.LabelDescribe, lbl, &sig); err != nil {
		if ferr := foreign(addr, err); ferr != nil {
			return ferr
		}
		return &callError{op: "describe", label: lbl, err: err, timeout: *timeout}
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(sig)
	}
	_, err = fmt.Fprintf(e.stdout, "%s%s\n", lbl, sig)
	return err
}
