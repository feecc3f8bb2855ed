package main

import (
	"context"
	"log/slog"
	"sync"
)

// A holdHandler holds the records logged through it and the handlers
// derived from it until release, which passes them on to the handlers
// they were meant for, or drop, which forgets them; from then on records
// pass at once (release) or are dropped (drop). serve holds what it logs
// while it starts, so that a server that cannot start prints its error
// alone.
type holdHandler struct {
	next slog.Handler
	hold *hold
}

// A hold is the state that a holdHandler and those derived from it share.
type hold struct {
	mu      sync.Mutex // guards the fields below
	held    []heldRecord
	decided bool // release or drop was called
	pass    bool // release was called
}

type heldRecord struct {
	h slog.Handler
	r slog.Record
}

func newHoldHandler(next slog.Handler) *holdHandler {
	return &holdHandler{next: next, hold: &hold{}}
}

func (h *holdHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *holdHandler) Handle(ctx context.Context, r slog.Record) error {
	h.hold.mu.Lock()
	if !h.hold.decided {
		h.hold.held = append(h.hold.held, heldRecord{h.next, r.Clone()})
		h.hold.mu.Unlock()
		return nil
	}
	pass := h.hold.pass
	h.hold.mu.Unlock()
	if !pass {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *holdHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &holdHandler{next: h.next.WithAttrs(attrs), hold: h.hold}
}

func (h *holdHandler) WithGroup(name string) slog.Handler {
	return &holdHandler{next: h.next.WithGroup(name), hold: h.hold}
}

// release passes on the records held, in order, and those to come.
func (h *holdHandler) release() { h.decide(true) }

// drop forgets the records held and those to come.
func (h *holdHandler) drop() { h.decide(false) }

func (h *holdHandler) decide(pass bool) {
	h.hold.mu.Lock()
	defer h.hold.mu.Unlock()
	if h.hold.decided {
		return
	}
	if pass {
		for _, hr := range h.hold.held {
			hr.h.Handle(context.Background(), hr.r)
		}
	}
	h.hold.held, h.hold.decided, h.hold.pass = nil, true, pass
}
