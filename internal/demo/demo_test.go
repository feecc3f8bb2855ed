package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/internal/demo"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve serves a demo.Server to a client peer in memory and returns the
// server and a client in each codec.
func serve(t *testing.T) (s *demo.Server, cbor, js *rpc.Client) {
	t.Helper()
	s = demo.New(slog.New(slog.DiscardHandler))
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := talk.NewPeer(sess1, talk.WithHandler(s.Handler()))
	sess2, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := talk.NewPeer(sess2)
	t.Cleanup(func() {
		s.Close()
		cli.Close()
		srv.Close()
	})
	return s, cli.Client(), rpc.NewClient(cli.Session(), rpc.WithCodec(rpc.JSON))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestLabels(t *testing.T) {
	s, c, _ := serve(t)
	want := []string{
		"chat:history", "chat:send", "chat:subscribe",
		"check:bytes", "check:callback", "check:echo", "check:fail", "check:metadata", "check:stream", "check:sum",
		"echo:echo",
		"kv:delete", "kv:get", "kv:list", "kv:set",
		"pubsub:publish", "pubsub:retain", "pubsub:subscribe",
		"qtalk:labels", "qtalk:ping",
	}
	if got := s.Labels(); !slices.Equal(got, want) {
		t.Errorf("Labels() = %q\nwant %q", got, want)
	}
	var got []string
	if _, err := c.Call(ctx(t), demo.LabelsSelector, nil, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q\nwant %q", demo.LabelsSelector, got, want)
	}
}

func TestEcho(t *testing.T) {
	_, c, js := serve(t)
	for _, client := range []*rpc.Client{c, js} {
		var got map[string]any
		in := map[string]any{"a": "b", "n": 1.5}
		if _, err := client.Call(ctx(t), "echo:echo", in, &got); err != nil {
			t.Fatalf("%s: %v", client.Codec().Name(), err)
		}
		if got["a"] != "b" || got["n"] != 1.5 {
			t.Errorf("%s: echo:echo returned %v, want %v", client.Codec().Name(), got, in)
		}
	}
}

func TestKV(t *testing.T) {
	_, c, js := serve(t)
	ctx := ctx(t)
	if err := fn.Invoke(ctx, c, "kv:set", "m", map[string]any{"x": []any{1, "two"}}); err != nil {
		t.Fatal(err)
	}
	if err := fn.Invoke(ctx, js, "kv:set", "s", "text"); err != nil {
		t.Fatal(err)
	}
	// A map set in CBOR reads back in JSON.
	raw, err := fn.Call[json.RawMessage](ctx, js, "kv:get", "m")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), `{"x":[1,"two"]}`; got != want {
		t.Errorf("kv:get m = %s, want %s", got, want)
	}
	keys, err := fn.Call[[]string](ctx, c, "kv:list")
	if err != nil || !slices.Equal(keys, []string{"m", "s"}) {
		t.Errorf("kv:list = %q, %v; want [m s]", keys, err)
	}
	if err := fn.Invoke(ctx, c, "kv:delete", "m"); err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{"kv:get", "kv:delete"} {
		if err := fn.Invoke(ctx, c, sel, "m"); !errors.Is(err, rpc.ErrNotFound) {
			t.Errorf("%s of a deleted key: %v, want not_found", sel, err)
		}
	}
	if err := fn.Invoke(ctx, c, "kv:set", "", 1); !errors.Is(err, rpc.ErrInvalidArgument) {
		t.Errorf("kv:set of an empty key: %v, want invalid_argument", err)
	}
}

// next receives the next event of a subscription.
func next(t *testing.T, resp *rpc.Response) demo.Event {
	t.Helper()
	var ev demo.Event
	if err := resp.Receive(&ev); err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return ev
}

func subscribe(t *testing.T, c *rpc.Client, user string) *rpc.Response {
	t.Helper()
	resp, err := c.Call(ctx(t), "chat:subscribe", []any{user}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Continue {
		t.Fatal("chat:subscribe did not continue")
	}
	t.Cleanup(func() { resp.Close() })
	if ev := next(t, resp); ev.Type != "joined" || ev.User != user {
		t.Fatalf("first event %+v, want %s joined", ev, user)
	}
	return resp
}

func TestChat(t *testing.T) {
	s, c, js := serve(t)
	ctx := ctx(t)
	alice := subscribe(t, c, "alice")
	bob := subscribe(t, js, "bob")
	if ev := next(t, alice); ev.Type != "joined" || ev.User != "bob" {
		t.Errorf("alice got %+v, want bob joined", ev)
	}

	m, err := fn.Call[demo.Message](ctx, js, "chat:send", "bob", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 1 || m.User != "bob" || m.Text != "hi" || m.Time == "" {
		t.Errorf("chat:send returned %+v", m)
	}
	for name, resp := range map[string]*rpc.Response{"alice": alice, "bob": bob} {
		if ev := next(t, resp); ev.Type != "message" || ev.Message == nil || *ev.Message != m {
			t.Errorf("%s got %+v, want the message %+v", name, ev, m)
		}
	}
	hist, err := fn.Call[[]demo.Message](ctx, c, "chat:history")
	if err != nil || len(hist) != 1 || hist[0] != m {
		t.Errorf("chat:history = %+v, %v; want [%+v]", hist, err, m)
	}
	if err := fn.Invoke(ctx, c, "chat:send", "", "x"); !errors.Is(err, rpc.ErrInvalidArgument) {
		t.Errorf("chat:send without a user: %v, want invalid_argument", err)
	}

	// bob leaves: alice is told.
	bob.Close()
	if ev := next(t, alice); ev.Type != "left" || ev.User != "bob" {
		t.Errorf("alice got %+v, want bob left", ev)
	}

	// Close ends the stream without an error, and later subscriptions fail.
	s.Close()
	if err := alice.Receive(nil); !errors.Is(err, io.EOF) {
		t.Errorf("after Close, Receive: %v, want io.EOF", err)
	}
	if _, err := c.Call(ctx, "chat:subscribe", []any{"carol"}, nil); !errors.Is(err, rpc.ErrUnavailable) {
		t.Errorf("chat:subscribe after Close: %v, want unavailable", err)
	}
}

func TestHistoryBounded(t *testing.T) {
	_, c, _ := serve(t)
	ctx := ctx(t)
	for i := range demo.HistorySize + 5 {
		if err := fn.Invoke(ctx, c, "chat:send", "u", "m"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	hist, err := fn.Call[[]demo.Message](ctx, c, "chat:history")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != demo.HistorySize || hist[0].ID != 6 {
		t.Errorf("history has %d messages starting at %d, want %d starting at 6", len(hist), hist[0].ID, demo.HistorySize)
	}
}

// The observer of a chat sees what subscribers see.
func TestChatObserve(t *testing.T) {
	c := demo.NewChat(slog.New(slog.DiscardHandler))
	defer c.Close()
	var got []string
	c.Observe(func(ev demo.Event) { got = append(got, ev.Type+" "+ev.User) })
	ctx, cancel := context.WithCancel(context.Background())
	events, err := c.Subscribe(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	<-events // joined
	if _, err := c.Send("bob", "hi"); err != nil {
		t.Fatal(err)
	}
	<-events // the message
	cancel()
	for range events { // until the subscription has ended
	}
	want := []string{"joined alice", "message bob", "left alice"}
	if !slices.Equal(got, want) {
		t.Errorf("observed %q, want %q", got, want)
	}
}
