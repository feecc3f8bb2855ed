package pubsub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/pubsub"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
)

const testTimeout = 20 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, topic string
		want           bool
	}{
		{"chat.*", "chat.room1", true},
		{"chat.*", "chat.room1.typing", false},
		{"chat.*", "chat", false},
		{"chat.>", "chat.room1.typing", true},
		{"chat.>", "chat", false},
		{">", "a.b", true},
		{"*.b", "a.b", true},
		{"a.b", "a.b", true},
		{"a.b", "a.c", false},
		{"a", "a.b", false},
	} {
		if got := pubsub.Match(tc.pattern, tc.topic); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.topic, got, tc.want)
		}
	}
}

// A subscriber whose queue is full loses the oldest values, and learns
// how many with a gap Event before the values that followed.
func TestSlowSubscriberGap(t *testing.T) {
	h := pubsub.NewHub(&pubsub.Config{QueueSize: 4})
	s := h.Subscribe("t")
	defer s.Close()
	for i := range 10 {
		h.Publish("t", i, false)
	}
	ev, err := s.Next(testCtx(t))
	if err != nil || ev.Gap != 6 {
		t.Fatalf("first event %+v, %v; want a gap of 6", ev, err)
	}
	for i := 6; i < 10; i++ {
		if ev, err := s.Next(testCtx(t)); err != nil || ev.Value != i || ev.Topic != "t" {
			t.Fatalf("event %+v, %v; want value %d", ev, err, i)
		}
	}
}

// Retained values reach new subscribers first, in topic order; a null
// retain forgets the topic's value.
func TestRetained(t *testing.T) {
	h := pubsub.NewHub(nil)
	h.Publish("cfg.b", "B", true)
	h.Publish("cfg.a", "A", true)
	h.Publish("cfg.c", "C", true)
	h.Publish("cfg.c", nil, true)
	h.Publish("cfg.d", "not kept", false)
	s := h.Subscribe("cfg.*")
	defer s.Close()
	for _, want := range []string{"cfg.a", "cfg.b"} {
		ev, err := s.Next(testCtx(t))
		if err != nil || ev.Topic != want || !ev.Retained {
			t.Fatalf("event %+v, %v; want the retained value of %s", ev, err, want)
		}
	}
	h.Publish("cfg.e", "live", false)
	if ev, err := s.Next(testCtx(t)); err != nil || ev.Topic != "cfg.e" || ev.Retained {
		t.Fatalf("event %+v, %v; want the live cfg.e", ev, err)
	}
}

func init() {
	service.RegisterModule("example.net/pubsub", func(m *service.Module) error {
		mux := pubsub.NewHub(nil).Handler()
		for _, name := range mux.Patterns() {
			m.Handle(name, mux)
		}
		return nil
	})
}

func startServer(t *testing.T, text string) *service.Server {
	t.Helper()
	cfg, err := config.Parse([]byte(text), t.Name()+".toml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := service.New(cfg, service.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return srv
}

// Through a gateway: subscribers with patterns get, in order, what a
// publisher sends with one-way messages, in every codec, and nothing of
// the topics they do not match.
func TestThroughGateway(t *testing.T) {
	up := startServer(t, `
listen = "tcp://127.0.0.1:0"
[services]
hub = { provider = "local", module = "example.net/pubsub" }
`)
	gw := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
events = { provider = "tcp://%s", service = "hub" }
`, up.Addrs()[0]))
	dial := func() *talk.Peer {
		p, err := talk.Dial(testCtx(t), "tcp://"+gw.Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	ctx := testCtx(t)
	type sub struct {
		resp *rpc.Response
		want []string
	}
	var subs []sub
	for _, tc := range []struct {
		codec   rpc.Codec
		pattern string
		want    []string
	}{
		{rpc.CBOR, "chat.*", []string{"chat.a", "chat.b"}},
		{rpc.JSON, "chat.>", []string{"chat.a", "chat.b", "chat.a.typing"}},
		{rpc.Msgpack, "news", []string{"news"}},
	} {
		c := rpc.NewClient(dial().Session(), rpc.WithCodec(tc.codec))
		resp, err := c.Call(ctx, "events:subscribe", []any{tc.pattern}, nil)
		if err != nil || !resp.Continue {
			t.Fatalf("subscribe %s: %v", tc.pattern, err)
		}
		defer resp.Close()
		subs = append(subs, sub{resp, tc.want})
	}
	// A subscription is in place once its call continued; publish.
	pub := dial()
	const n = 50
	for i := range n {
		for _, topic := range []string{"chat.a", "chat.b", "chat.a.typing", "news", "other"} {
			if err := pub.Send(ctx, "events:publish", []any{topic, map[string]any{"i": i}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range subs {
		for i := range n {
			for _, topic := range s.want {
				var ev struct { // tagged: msgpack matches names exactly
					Topic string `json:"topic"`
					Value struct {
						I int `json:"i"`
					} `json:"value"`
				}
				if err := s.resp.Receive(&ev); err != nil {
					t.Fatalf("receive %v of %d: %v", s.want, i, err)
				}
				if ev.Topic != topic || ev.Value.I != i {
					t.Fatalf("got %s %d, want %s %d", ev.Topic, ev.Value.I, topic, i)
				}
			}
		}
	}
}

// Close ends the subscriptions once their queues are drained.
func TestHubClose(t *testing.T) {
	h := pubsub.NewHub(nil)
	s := h.Subscribe(">")
	h.Publish("a", 1, false)
	h.Close()
	if ev, err := s.Next(testCtx(t)); err != nil || ev.Value != 1 {
		t.Fatalf("queued event %+v, %v", ev, err)
	}
	if _, err := s.Next(testCtx(t)); !errors.Is(err, pubsub.ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
}
