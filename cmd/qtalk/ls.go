package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/service"
)

var cmdLs = &command{
	name:    "ls",
	args:    "ADDR",
	summary: "list the labels the server at ADDR offers",
	help: `
Ls calls qtalk:labels on the server at ADDR and prints the labels it
offers, one per line. With --json it prints one JSON array of objects,
{"label", "module", "version"}, where module and version say where the
label's service comes from (qtalk:source), when the server knows it.
Exit statuses are those of qtalk call.
` + tlsAddressHelp,
	example: `  qtalk ls tcp://127.0.0.1:4242
  qtalk ls "exec:qtalk serve --listen stdio:"`,
}

func runLs(ctx context.Context, e *env, args []string) error {
	f := newFlags(cmdLs)
	timeout := f.Duration("timeout", 10*time.Second, "bound connecting and the call (0: no bound but "+dialTimeout.String()+" to connect)")
	asJSON := f.Bool("json", false, "print the labels and their services' sources as one JSON array")
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
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	p, err := connect(ctx, "ls", f.logger(e), addr, tlsFiles)
	if err != nil {
		return err
	}
	defer p.Close()
	var labels []string
	if _, err := p.Call(ctx, demo.LabelsSelector, nil, &labels); err != nil {
		if ferr := foreign(addr, err); ferr != nil {
			return ferr
		}
		return &callError{label: demo.LabelsSelector, err: err, timeout: *timeout}
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(withSources(ctx, p, labels))
	}
	for _, l := range labels {
		if _, err := fmt.Fprintln(e.stdout, l); err != nil {
			return err
		}
	}
	return nil
}

// A lsEntry is a label as ls --json prints it, with the module and
// version of its service when the server knows them.
type lsEntry struct {
	Label   string `json:"label"`
	Module  string `json:"module,omitempty"`
	Version string `json:"version,omitempty"`
}

// withSources asks p where the service of each label comes from
// (qtalk:source, once per service; the built-in labels have none) and
// returns the labels with what it knows.
func withSources(ctx context.Context, p *talk.Peer, labels []string) []lsEntry {
	sources := map[string]service.SourceInfo{}
	out := make([]lsEntry, 0, len(labels))
	for _, l := range labels {
		e := lsEntry{Label: l}
		if module, _, ok := strings.Cut(l, ":"); ok && module != service.BuiltinModule {
			info, ok := sources[module]
			if !ok {
				if _, err := p.Call(ctx, service.LabelSource, module, &info); err != nil {
					info = service.SourceInfo{} // not known: the label alone
				}
				sources[module] = info
			}
			e.Module, e.Version = info.Module, info.Version
		}
		out = append(out, e)
	}
	return out
}
