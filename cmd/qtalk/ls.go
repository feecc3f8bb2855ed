package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/qtalkkit/qtalk/internal/demo"
)

var cmdLs = &command{
	name:    "ls",
	args:    "ADDR",
	summary: "list the labels the server at ADDR offers",
	help: `
Ls calls qtalk:labels on the server at ADDR and prints the labels it
offers, one per line. Exit statuses are those of qtalk call.
` + tlsAddressHelp,
	example: `  qtalk ls tcp://127.0.0.1:4242
  qtalk ls "exec:qtalk serve --listen stdio:"`,
}

func runLs(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdLs)
	timeout := f.Duration("timeout", 10*time.Second, "bound connecting and the call (0: no bound but "+dialTimeout.String()+" to connect)")
	asJSON := f.Bool("json", false, "print the labels as one JSON array")
	tlsFiles := f.clientTLSFlags()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ls: want ADDR, got %d arguments (see qtalk ls --help)", len(pos))
	}
	addr := pos[0]
	if err := checkAddress("ls", addr); err != nil {
		return err
	}
	dialOpts, err := clientTLSOptions("ls", tlsFiles)
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	p, err := dial(ctx, f.logger(e), addr, dialOpts...)
	if err != nil {
		return err
	}
	defer p.Close()
	var labels []string
	if _, err := p.Call(ctx, demo.LabelsSelector, nil, &labels); err != nil {
		return &callError{label: demo.LabelsSelector, err: err, timeout: *timeout}
	}
	if *asJSON {
		if labels == nil {
			labels = []string{}
		}
		return json.NewEncoder(e.stdout).Encode(labels)
	}
	for _, l := range labels {
		if _, err := fmt.Fprintln(e.stdout, l); err != nil {
			return err
		}
	}
	return nil
}
