package rpc_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/qtalkkit/qtalk/rpc"
)

// named is a handler that answers with its name, so routing is visible.
type named string

func (n named) RespondRPC(r rpc.Responder, c *rpc.Call) { r.Return(string(n) + " " + c.Selector) }

func TestRespondMuxMatch(t *testing.T) {
	m := rpc.NewRespondMux()
	for _, p := range []string{"a/", "a/b/", "a/b/exact", "svc.", "chat:", "ping", "a/x"} {
		m.Handle(p, named(p))
	}
	for _, tt := range []struct {
		selector, pattern string
		ok                bool
	}{
		{"ping", "ping", true},
		{"pong", "", false},
		{"pin", "", false},
		{"pingx", "", false},    // exact patterns do not match longer selectors
		{"a/", "a/", true},      // a prefix pattern matches itself
		{"a/q", "a/", true},     // ... and what it prefixes
		{"a/b/c", "a/b/", true}, // the longest prefix wins
		{"a/b/exact", "a/b/exact", true},
		{"a/b/exactly", "a/b/", true},
		{"a/x", "a/x", true}, // exact beats prefix
		{"a/xy", "a/", true},
		{"a", "", false},
		{"svc.method", "svc.", true},
		{"svc", "", false},
		{"chat:send", "chat:", true},
		{"", "", false},
	} {
		h, pattern, ok := m.Match(tt.selector)
		if ok != tt.ok || pattern != tt.pattern {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", tt.selector, pattern, ok, tt.pattern, tt.ok)
			continue
		}
		if ok && h != named(tt.pattern) {
			t.Errorf("Match(%q) returned the handler of %v", tt.selector, h)
		}
	}
}

func TestRespondMuxZeroValue(t *testing.T) {
	var m rpc.RespondMux
	if _, _, ok := m.Match("x"); ok {
		t.Fatal("an empty mux matched")
	}
	m.Handle("x", named("x"))
	if _, p, ok := m.Match("x"); !ok || p != "x" {
		t.Fatalf("zero-value mux after Handle: %q, %v", p, ok)
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestRespondMuxRegistrationPanics(t *testing.T) {
	m := rpc.NewRespondMux()
	m.Handle("x", named("x"))
	m.Handle("p/", named("p/"))
	mustPanic(t, "registering an exact pattern twice", func() { m.Handle("x", named("again")) })
	mustPanic(t, "registering a prefix pattern twice", func() { m.Handle("p/", named("again")) })
	mustPanic(t, "an empty pattern", func() { m.Handle("", named("")) })
	mustPanic(t, "a nil handler", func() { m.Handle("y", nil) })
	// A prefix pattern and an exact pattern that it prefixes coexist.
	m.Handle("p/q", named("p/q"))
	if got := m.Patterns(); !slices.Equal(got, []string{"p/", "p/q", "x"}) {
		t.Fatalf("Patterns after failed registrations: %q", got)
	}
}

func TestRespondMuxRemoveAndPatterns(t *testing.T) {
	m := rpc.NewRespondMux()
	for _, p := range []string{"b", "a.", "c:", "a/", "a.long."} {
		m.Handle(p, named(p))
	}
	if got, want := m.Patterns(), []string{"a.", "a.long.", "a/", "b", "c:"}; !slices.Equal(got, want) {
		t.Fatalf("Patterns() = %q, want %q", got, want)
	}
	if !m.Remove("a.long.") || !m.Remove("b") {
		t.Fatal("Remove of a registered pattern reported false")
	}
	if m.Remove("b") || m.Remove("nope") || m.Remove("a") {
		t.Fatal("Remove of an unregistered pattern reported true")
	}
	if _, p, ok := m.Match("a.long.x"); !ok || p != "a." {
		t.Fatalf("after removing a.long., a.long.x matched %q, %v; want a.", p, ok)
	}
	if _, _, ok := m.Match("b"); ok {
		t.Fatal("a removed exact pattern still matches")
	}
	if got, want := m.Patterns(), []string{"a.", "a/", "c:"}; !slices.Equal(got, want) {
		t.Fatalf("Patterns() = %q, want %q", got, want)
	}
	m.Handle("b", named("b again")) // a removed pattern can be registered again
}

func TestRespondMuxRouting(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		chat := rpc.NewRespondMux()
		chat.Handle("send", named("chat.send"))
		chat.Handle("room.", named("chat.room"))
		root := rpc.NewRespondMux()
		root.Handle("chat:", chat) // a mux is a Handler: muxes nest
		root.Handle("svc/", named("svc"))
		root.Handle("svc/v2/", named("svc-v2"))
		root.Handle("svc/v2/exact", named("svc-v2-exact"))
		h := start(t, tc, &rpc.Server{Handler: root})

		for _, tt := range []struct{ selector, want string }{
			{"chat:send", "chat.send send"},
			{"chat:room.general", "chat.room general"},
			{"svc/get", "svc get"},
			{"svc/v2/get", "svc-v2 get"},
			{"svc/v2/exact", "svc-v2-exact svc/v2/exact"},
		} {
			var got string
			if _, err := h.client.Call(context.Background(), tt.selector, nil, &got); err != nil {
				t.Fatalf("%s: %v", tt.selector, err)
			}
			if got != tt.want {
				t.Errorf("%s answered %q, want %q", tt.selector, got, tt.want)
			}
		}

		for _, selector := range []string{"nope", "chat:nope", "chat", "svc"} {
			_, err := h.client.Call(context.Background(), selector, nil, nil)
			if !errors.Is(err, rpc.ErrNotFound) || rpc.CodeOf(err) != rpc.CodeNotFound {
				t.Errorf("%s: got %v, want a not-found error", selector, err)
			}
			if errors.Is(err, rpc.ErrInternal) {
				t.Errorf("%s: a not-found error matches ErrInternal", selector)
			}
		}

		// Remove takes effect for the next call.
		chat.Remove("send")
		if _, err := h.client.Call(context.Background(), "chat:send", nil, nil); !errors.Is(err, rpc.ErrNotFound) {
			t.Fatalf("after Remove: %v, want not found", err)
		}
	})
}
